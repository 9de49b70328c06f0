import type { Schemas } from '@/api/client';
import { parseWhole } from '@/lib/forms';
import { templateFrom, type JobTemplateForm } from '../jobs/jobForm';

export type Schedule = Schemas['ScheduleDto'];
type Request = Schemas['ScheduleRequest'];

/** Interval units the form offers, in ms. */
export const UNITS = { seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
export type Unit = keyof typeof UNITS;

/** The schedule form as typed. */
export interface ScheduleForm extends JobTemplateForm {
  name: string;
  kind: 'cron' | 'every';
  cron: string;
  every: string;
  unit: Unit;
  timezone: string;
  overlap: 'allow' | 'skip' | 'replace';
  catch_up: 'skip' | 'once' | 'all';
  catch_up_limit: string;
  jitter_ms: string;
  start_at: string;
  end_at: string;
  paused: boolean;
  pause_reason: string;
  /** What each run starts: the job template, or an instance of the workflow template named in `workflow`. */
  starts: 'job' | 'workflow';
  workflow: string;
}

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

export const emptyScheduleForm = (): ScheduleForm => ({
  name: '', kind: 'cron', cron: '0 9 * * 1-5', every: '15', unit: 'minutes', timezone: browserTimeZone(), queue: 'default', type: '',
  payload: '{}', priority: '', max_attempts: '', timeout_ms: '', tags: '', overlap: 'allow', catch_up: 'once', catch_up_limit: '',
  jitter_ms: '', start_at: '', end_at: '', paused: false, pause_reason: '', starts: 'job', workflow: '',
});

/** The biggest unit an interval is a whole number of. */
export function splitInterval(ms: number): { every: string; unit: Unit } {
  for (const unit of ['days', 'hours', 'minutes', 'seconds'] as const) {
    if (ms % UNITS[unit] === 0) return { every: String(ms / UNITS[unit]), unit };
  }
  return { every: String(ms / 1000), unit: 'seconds' };
}

/** An RFC 3339 time as a datetime-local value in the browser's zone ('' for none). */
export function toLocalInput(iso: unknown): string {
  if (typeof iso !== 'string' || !iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function formFromSchedule(s: Schedule): ScheduleForm {
  const interval = s.every_ms != null ? splitInterval(s.every_ms) : { every: '15', unit: 'minutes' as Unit };
  return {
    name: s.name,
    kind: s.every_ms != null ? 'every' : 'cron',
    cron: s.cron ?? '',
    ...interval,
    timezone: s.timezone,
    queue: s.job?.queue ?? 'default',
    type: s.job?.type ?? '',
    payload: JSON.stringify(s.job?.payload ?? {}, null, 2),
    priority: s.job?.priority ? String(s.job.priority) : '',
    max_attempts: s.job?.max_attempts != null ? String(s.job.max_attempts) : '',
    timeout_ms: s.job?.timeout_ms != null ? String(s.job.timeout_ms) : '',
    tags: (s.job?.tags ?? []).join(', '),
    starts: s.workflow ? 'workflow' : 'job',
    workflow: s.workflow ?? '',
    overlap: s.overlap as ScheduleForm['overlap'],
    catch_up: s.catch_up as ScheduleForm['catch_up'],
    catch_up_limit: String(s.catch_up_limit),
    jitter_ms: s.jitter_ms ? String(s.jitter_ms) : '',
    start_at: toLocalInput(s.start_at),
    end_at: toLocalInput(s.end_at),
    paused: s.paused,
    pause_reason: s.pause_reason ?? '',
  };
}

/** The interval in ms, or null when the text is not a positive number. */
export function intervalMs(f: Pick<ScheduleForm, 'every' | 'unit'>): number | null {
  const n = Number(f.every);
  if (f.every.trim() === '' || !Number.isFinite(n) || n <= 0) return null;
  return Math.round(n * UNITS[f.unit]);
}

/** The preview query for the timing fields (null while they are too incomplete to ask). */
export function previewQuery(f: ScheduleForm): Record<string, string> | null {
  const timezone = f.timezone.trim() || 'UTC';
  if (f.kind === 'every') {
    const ms = intervalMs(f);
    return ms === null ? null : { every_ms: String(ms), timezone };
  }
  return f.cron.trim() ? { cron: f.cron.trim(), timezone } : null;
}

/** The request of the form (for POST, or PUT on edit), or the fields it names that are wrong. */
export function scheduleRequestFrom(f: ScheduleForm): { body: Request; errors?: undefined } | { body?: undefined; errors: Record<string, string[]> } {
  const errors: Record<string, string[]> = {};
  const time = (text: string): string | null => (text ? new Date(text).toISOString() : null);
  if (!f.name.trim()) errors.name = ['is required'];
  if (f.kind === 'cron' && !f.cron.trim()) errors.cron = ['is required'];
  const every = f.kind === 'every' ? intervalMs(f) : null;
  if (f.kind === 'every' && every === null) errors.every_ms = ['must be a positive number'];
  const workflow = f.starts === 'workflow' ? f.workflow.trim() : '';
  if (f.starts === 'workflow' && !workflow) errors.workflow = ['is required: the workflow template each run starts'];
  const body: Request = {
    name: f.name.trim(),
    cron: f.kind === 'cron' ? f.cron.trim() : null,
    every_ms: every,
    timezone: f.timezone.trim() || 'UTC',
    job: workflow ? null : templateFrom(f, errors, 'job.'),
    workflow: workflow || null,
    overlap: f.overlap,
    catch_up: f.catch_up,
    catch_up_limit: parseWhole(f.catch_up_limit, 'catch_up_limit', errors, 1),
    jitter_ms: parseWhole(f.jitter_ms, 'jitter_ms', errors, 0),
    start_at: time(f.start_at),
    end_at: time(f.end_at),
    paused: f.paused,
    pause_reason: f.paused ? f.pause_reason.trim() || null : null,
  };
  return Object.keys(errors).length ? { errors } : { body };
}

/** "every 15 minutes" / the cron expression: how a schedule fires, short. */
export function timingOf(s: Pick<Schedule, 'cron' | 'every_ms'>): string {
  if (s.every_ms != null) {
    const { every, unit } = splitInterval(s.every_ms);
    return `every ${every} ${every === '1' ? unit.slice(0, -1) : unit}`;
  }
  return s.cron ?? '';
}
