import type { Schemas } from '@/api/client';
import { parseWhole } from '@/lib/forms';

export type AlertRule = Schemas['AlertRuleDto'];
export type AlertChannel = Schemas['AlertChannelDto'];
type RuleRequest = Schemas['AlertRuleRequest'];
type ChannelConfig = Schemas['AlertChannelConfig'];
type WindowRequest = Schemas['MaintenanceWindowRequest'];

export const RULE_KINDS = {
  job_failed: 'Jobs failed',
  failure_rate: 'Failure rate above',
  queue_backlog: 'Queue backlog',
  worker_lost: 'Worker lost',
  monitor: 'Monitor late or down',
  schedule_misfire: 'Schedule misfired',
} as const;
export type RuleKind = keyof typeof RULE_KINDS;

export const CHANNEL_KINDS = { slack: 'Slack', webhook: 'Webhook', email: 'Email (SMTP)', pagerduty: 'PagerDuty' } as const;
export type ChannelKind = keyof typeof CHANNEL_KINDS;

/** The rule form as typed; which fields count depends on the kind. Minutes for windows and the cool-down. */
export interface RuleForm {
  name: string;
  kind: RuleKind;
  queue: string;
  type: string;
  threshold: string;
  window_minutes: string;
  rate_percent: string;
  min_jobs: string;
  max_age_minutes: string;
  monitor: string;
  monitor_states: string;
  schedule: string;
  channels: string[];
  cooldown_minutes: string;
  enabled: boolean;
}

export const emptyRuleForm = (): RuleForm => ({
  name: '', kind: 'job_failed', queue: '', type: '', threshold: '', window_minutes: '5', rate_percent: '10', min_jobs: '', max_age_minutes: '',
  monitor: '', monitor_states: 'late, down', schedule: '', channels: [], cooldown_minutes: '15', enabled: true,
});

/** Minutes as the form shows them: 5, 1.5; empty for none. */
const asMinutes = (ms: number | null | undefined) => (ms == null ? '' : String(Math.round((ms / 60_000) * 1000) / 1000));

/** The form of a stored rule, to edit it (the fields of other kinds take their empty values). */
export function ruleFormFrom(r: AlertRule): RuleForm {
  return {
    ...emptyRuleForm(),
    name: r.name,
    kind: r.kind as RuleKind,
    queue: r.queue ?? '',
    type: r.type ?? '',
    threshold: r.threshold == null ? '' : String(r.threshold),
    window_minutes: asMinutes(r.window_ms),
    rate_percent: r.rate_percent == null ? '' : String(r.rate_percent),
    min_jobs: String(r.min_jobs),
    max_age_minutes: asMinutes(r.max_age_ms),
    monitor: r.monitor ?? '',
    monitor_states: r.monitor_states.join(', '),
    schedule: r.schedule ?? '',
    channels: [...r.channels],
    cooldown_minutes: asMinutes(r.cooldown_ms),
    enabled: r.enabled,
  };
}

function minutes(text: string, field: string, errors: Record<string, string[]>): number | null {
  const t = text.trim();
  if (!t) return null;
  const n = Number(t);
  if (!Number.isFinite(n) || n <= 0) {
    errors[field] = ['must be a positive number of minutes'];
    return null;
  }
  return Math.round(n * 60_000);
}

/** The request of the rule form, with only the fields of its kind, or the fields that are wrong (named as the server names them). */
export function ruleRequestFrom(f: RuleForm): { body: RuleRequest; errors?: undefined } | { body?: undefined; errors: Record<string, string[]> } {
  const errors: Record<string, string[]> = {};
  if (!f.name.trim()) errors.name = ['is required'];
  const k = f.kind;
  const text = (s: string) => s.trim() || null;
  const rate = f.rate_percent.trim() === '' ? null : Number(f.rate_percent);
  if (k === 'failure_rate' && (rate === null || !Number.isFinite(rate) || rate <= 0 || rate > 100)) errors.rate_percent = ['must be a percentage above 0, at most 100'];
  const body: RuleRequest = {
    name: f.name.trim(),
    kind: k,
    queue: k === 'job_failed' || k === 'failure_rate' || k === 'queue_backlog' ? text(f.queue) : null,
    type: k === 'job_failed' || k === 'failure_rate' ? text(f.type) : null,
    threshold: k === 'job_failed' || k === 'queue_backlog' ? parseWhole(f.threshold, 'threshold', errors, 1) : null,
    window_ms: k === 'job_failed' || k === 'failure_rate' || k === 'schedule_misfire' ? minutes(f.window_minutes, 'window_ms', errors) : null,
    rate_percent: k === 'failure_rate' && rate !== null && Number.isFinite(rate) ? rate : null,
    min_jobs: k === 'failure_rate' ? parseWhole(f.min_jobs, 'min_jobs', errors, 1) : null,
    max_age_ms: k === 'queue_backlog' ? minutes(f.max_age_minutes, 'max_age_ms', errors) : null,
    monitor_states: k === 'monitor' ? f.monitor_states.split(/[,\s]+/).map((s) => s.trim()).filter(Boolean) : null,
    monitor: k === 'monitor' ? text(f.monitor) : null,
    schedule: k === 'schedule_misfire' ? text(f.schedule) : null,
    channels: f.channels,
    cooldown_ms: minutes(f.cooldown_minutes, 'cooldown_ms', errors),
    enabled: f.enabled,
  };
  if (k === 'queue_backlog' && body.threshold === null && body.max_age_ms === null && !errors.threshold && !errors.max_age_ms) {
    errors.threshold = ['give a depth, an oldest age, or both'];
  }
  return Object.keys(errors).length ? { errors } : { body };
}

/** "3 failures in 5 min on emails", "late, down of backup": what a rule watches, short. */
export function describeRule(r: AlertRule): string {
  const win = `${Math.round(r.window_ms / 60_000)} min`;
  const where = [r.queue && `queue ${r.queue}`, r.type && `type ${r.type}`].filter(Boolean).join(', ') || 'every queue';
  switch (r.kind) {
    case 'job_failed': return `${(r.threshold ?? 1) <= 1 ? 'every failure' : `${r.threshold} failures in ${win}`} · ${where}`;
    case 'failure_rate': return `more than ${r.rate_percent}% failed in ${win} (at least ${r.min_jobs} jobs) · ${where}`;
    case 'queue_backlog': return [r.threshold != null && `more than ${r.threshold} ready`, r.max_age_ms != null && `oldest waits over ${Math.round(r.max_age_ms / 60_000)} min`].filter(Boolean).join(' or ') + ` · ${r.queue ? `queue ${r.queue}` : 'every queue'}`;
    case 'worker_lost': return 'a worker is lost';
    case 'monitor': return `${r.monitor_states.join(', ')} · ${r.monitor ? `monitor ${r.monitor}` : 'every monitor'}`;
    case 'schedule_misfire': return `misfires · ${r.schedule ? `schedule ${r.schedule}` : 'every schedule'}`;
    default: return r.kind;
  }
}

/** The channel form's config of its kind: only the fields that kind reads; an empty secret is left out (the server keeps it). */
export function channelConfigFrom(kind: ChannelKind, f: Record<string, string>): ChannelConfig {
  const t = (k: string) => f[k]?.trim() || null;
  switch (kind) {
    case 'slack': return { url: t('url') };
    case 'webhook': return { url: t('url'), secret: t('secret') };
    case 'email': return {
      host: t('host'), port: f.port?.trim() ? Number(f.port) : null, tls: t('tls'), username: t('username'), password: t('password'), from: t('from'),
      to: (f.to ?? '').split(/[,\s]+/).map((s) => s.trim()).filter(Boolean),
    };
    case 'pagerduty': return { routing_key: t('routing_key'), severity: t('severity') };
  }
}

/** The fields of each channel kind; the secret ones are stored encrypted and never shown back. */
export const CHANNEL_FIELDS: Record<ChannelKind, { key: string; label: string; secret?: boolean; hint?: string }[]> = {
  slack: [{ key: 'url', label: 'Incoming webhook URL', secret: true }],
  webhook: [{ key: 'url', label: 'URL' }, { key: 'secret', label: 'Signing secret', secret: true, hint: 'optional: signs as webhooks do' }],
  email: [
    { key: 'host', label: 'SMTP host' }, { key: 'port', label: 'Port', hint: 'default 587' }, { key: 'tls', label: 'TLS', hint: 'none, starttls (default) or tls' },
    { key: 'username', label: 'User name' }, { key: 'password', label: 'Password', secret: true }, { key: 'from', label: 'From' }, { key: 'to', label: 'To', hint: 'comma-separated' },
  ],
  pagerduty: [{ key: 'routing_key', label: 'Routing key', secret: true }, { key: 'severity', label: 'Severity', hint: 'critical, error, warning (default) or info' }],
};

/**
 * The channel form of a stored channel, to edit it: its plain fields as they are, its secret fields empty (the server
 * answers them masked; left empty, the stored secret stays).
 */
export function channelFieldsFrom(c: AlertChannel): Record<string, string> {
  const kind = c.kind as ChannelKind;
  const config = c.config as Record<string, unknown>;
  const fields: Record<string, string> = {};
  for (const f of CHANNEL_FIELDS[kind] ?? []) {
    const v = config[f.key];
    if (f.secret || v == null) continue;
    fields[f.key] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return fields;
}

/** The maintenance window form as typed: the rule (empty: every rule), a start (empty: now; a local date-time), hours, a reason. */
export interface WindowForm {
  rule: string;
  starts: string;
  hours: string;
  reason: string;
}

/** The request of the maintenance window form, or what is wrong with it (named as the server names it). */
export function windowRequestFrom(f: WindowForm, now: Date): { body: WindowRequest; errors?: undefined } | { body?: undefined; errors: Record<string, string[]> } {
  const errors: Record<string, string[]> = {};
  const hours = Number(f.hours.trim());
  if (!f.hours.trim() || !Number.isFinite(hours) || hours <= 0) errors.duration_ms = ['must be a positive number of hours'];
  let startsAt: string | null = null;
  if (f.starts.trim()) {
    const start = new Date(f.starts);
    if (Number.isNaN(start.getTime())) errors.starts_at = ['is not a date and time'];
    else if (start.getTime() + hours * 3_600_000 <= now.getTime()) errors.starts_at = ['the window would be over already'];
    else startsAt = start.toISOString();
  }
  if (Object.keys(errors).length) return { errors };
  return { body: { rule: f.rule || null, starts_at: startsAt, ends_at: null, duration_ms: Math.round(hours * 3_600_000), reason: f.reason.trim() || null } };
}

/**
 * The config to PUT when a channel is edited: what is stored (settings the form does not show, such as a webhook's
 * headers, and the masked secrets, which the server keeps) under the form's fields (an empty secret is null: kept).
 */
export function channelUpdateFrom(c: AlertChannel, fields: Record<string, string>): ChannelConfig {
  return { ...c.config, ...channelConfigFrom(c.kind as ChannelKind, fields) };
}
