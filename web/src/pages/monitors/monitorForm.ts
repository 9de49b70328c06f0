import type { Schemas } from '@/api/client';
import { parseWhole } from '@/lib/forms';
import { browserTimeZone } from '../schedules/scheduleForm';

export type Monitor = Schemas['MonitorDto'];
export type MonitorRun = Schemas['MonitorRunDto'];
type Request = Schemas['MonitorRequest'];

/** Period and grace units the form offers, in seconds. */
export const SECOND_UNITS = { minutes: 60, hours: 3600, days: 86_400 } as const;
export type SecondUnit = keyof typeof SECOND_UNITS;

/** The monitor form as typed (strings, so that a half-typed number stays as typed). */
export interface MonitorForm {
  name: string;
  slug: string;
  kind: 'period' | 'cron';
  period: string;
  period_unit: SecondUnit;
  cron: string;
  timezone: string;
  grace: string;
  grace_unit: SecondUnit;
  max_runtime: string;
  max_runtime_unit: SecondUnit;
  start_grace: string;
  start_grace_unit: SecondUnit;
  failure_threshold: string;
  tags: string;
}

export const emptyMonitorForm = (): MonitorForm => ({
  name: '', slug: '', kind: 'period', period: '1', period_unit: 'hours', cron: '0 3 * * *', timezone: browserTimeZone(), grace: '5',
  grace_unit: 'minutes', max_runtime: '', max_runtime_unit: 'minutes', start_grace: '', start_grace_unit: 'minutes', failure_threshold: '1', tags: '',
});

/** Seconds in the biggest unit of the form they are a whole number of (minutes at least). */
export function splitSeconds(s: number | null | undefined): { value: string; unit: SecondUnit } {
  if (s == null) return { value: '', unit: 'minutes' };
  for (const unit of ['days', 'hours', 'minutes'] as const) {
    if (s % SECOND_UNITS[unit] === 0) return { value: String(s / SECOND_UNITS[unit]), unit };
  }
  return { value: String(s / 60), unit: 'minutes' };
}

export function formFromMonitor(m: Monitor): MonitorForm {
  const period = splitSeconds(m.period_seconds ?? 3600);
  const grace = splitSeconds(m.grace_seconds);
  const runtime = splitSeconds(m.max_runtime_seconds);
  const start = splitSeconds(m.start_grace_seconds);
  return {
    name: m.name,
    slug: m.slug,
    kind: m.cron ? 'cron' : 'period',
    period: period.value,
    period_unit: period.unit,
    cron: m.cron ?? '0 3 * * *',
    timezone: m.timezone,
    grace: grace.value,
    grace_unit: grace.unit,
    max_runtime: runtime.value,
    max_runtime_unit: runtime.unit,
    start_grace: start.value,
    start_grace_unit: start.unit,
    failure_threshold: String(m.failure_threshold),
    tags: m.tags.join(', '),
  };
}

/**
 * A number of units typed in the form as whole seconds: null when empty; a text that is not a positive number adds a
 * message for `field` (the server's name) to `errors`.
 */
function seconds(text: string, unit: SecondUnit, field: string, errors: Record<string, string[]>): number | null {
  const t = text.trim();
  if (t === '') return null;
  const n = Number(t);
  if (!Number.isFinite(n) || n <= 0) {
    errors[field] = ['must be a positive number'];
    return null;
  }
  return Math.round(n * SECOND_UNITS[unit]);
}

/** The request of the form (POST to create; on edit, PATCH with every field so the other timing is cleared), or its wrong fields. */
export function monitorRequestFrom(f: MonitorForm): { body: Request; errors?: undefined } | { body?: undefined; errors: Record<string, string[]> } {
  const errors: Record<string, string[]> = {};
  if (!f.name.trim()) errors.name = ['is required'];
  const period = f.kind === 'period' ? seconds(f.period, f.period_unit, 'period_seconds', errors) : null;
  if (f.kind === 'period' && period === null && !errors.period_seconds) errors.period_seconds = ['is required'];
  if (f.kind === 'cron' && !f.cron.trim()) errors.cron = ['is required'];
  const body: Request = {
    name: f.name.trim(),
    slug: f.slug.trim() || null,
    period_seconds: period,
    cron: f.kind === 'cron' ? f.cron.trim() : null,
    timezone: f.timezone.trim() || 'UTC',
    grace_seconds: seconds(f.grace, f.grace_unit, 'grace_seconds', errors),
    max_runtime_seconds: seconds(f.max_runtime, f.max_runtime_unit, 'max_runtime_seconds', errors),
    start_grace_seconds: f.kind === 'cron' ? seconds(f.start_grace, f.start_grace_unit, 'start_grace_seconds', errors) : null,
    failure_threshold: parseWhole(f.failure_threshold, 'failure_threshold', errors, 1),
    tags: f.tags.split(',').map((t) => t.trim()).filter(Boolean),
    paused: null,
    pause_reason: null,
  };
  return Object.keys(errors).length ? { errors } : { body };
}

/** The preview query of a cron monitor's timing (the schedules' preview explains a cron expression); null for a period. */
export function monitorPreviewQuery(f: MonitorForm): Record<string, string> | null {
  if (f.kind !== 'cron' || !f.cron.trim()) return null;
  return { cron: f.cron.trim(), timezone: f.timezone.trim() || 'UTC' };
}
