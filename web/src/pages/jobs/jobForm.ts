import type { Job, Schemas } from '@/api/client';
import { parseWhole } from '@/lib/forms';
import { checkJson } from '@/lib/json';

/** What a job is made of, as typed in a form (strings, so that a half-typed number stays as typed). */
export interface JobTemplateForm {
  queue: string;
  type: string;
  payload: string;
  priority: string;
  max_attempts: string;
  timeout_ms: string;
  tags: string;
}

/** The create-job form: a template, and when and how uniquely to enqueue it. */
export interface JobForm extends JobTemplateForm {
  delay_ms: string;
  unique_key: string;
}

/**
 * The template part of a request (queue, type, payload, priority, max attempts, timeout, tags); wrong fields are
 * added to `errors` under their name with `prefix` (`job.` in a schedule, as the server names them).
 */
export function templateFrom(f: JobTemplateForm, errors: Record<string, string[]>, prefix = '') {
  if (!f.queue.trim()) errors[`${prefix}queue`] = ['is required'];
  if (!f.type.trim()) errors[`${prefix}type`] = ['is required'];
  const payload = checkJson(f.payload);
  if (!payload.ok) errors[`${prefix}payload`] = [`is not valid JSON: ${payload.message}${payload.line ? ` (line ${payload.line}, column ${payload.column})` : ''}`];
  return {
    queue: f.queue.trim(),
    type: f.type.trim(),
    payload: payload.ok ? payload.value : null,
    priority: parseWhole(f.priority, `${prefix}priority`, errors),
    max_attempts: parseWhole(f.max_attempts, `${prefix}max_attempts`, errors, 1),
    timeout_ms: parseWhole(f.timeout_ms, `${prefix}timeout_ms`, errors, 1),
    tags: f.tags.split(',').map((t) => t.trim()).filter(Boolean),
  };
}

export const emptyJobForm: JobForm = {
  queue: 'default', type: '', payload: '{\n  \n}', priority: '', max_attempts: '', timeout_ms: '', delay_ms: '', unique_key: '', tags: '',
};

/** A job's settings as a form, to enqueue a copy of it (clone). The unique key is left out: a copy would be refused. */
export function formFromJob(job: Job): JobForm {
  return {
    queue: job.queue,
    type: job.type,
    payload: JSON.stringify(job.payload ?? null, null, 2),
    priority: job.priority ? String(job.priority) : '',
    max_attempts: String(job.max_attempts),
    timeout_ms: job.timeout_ms != null ? String(job.timeout_ms) : '',
    delay_ms: '',
    unique_key: '',
    tags: job.tags.join(', '),
  };
}

type Request = Schemas['CreateJobRequest'];

/** The request the form makes, or the fields it names that are wrong (checked here before the server sees them). */
export function jobRequestFrom(f: JobForm): { body: Request; errors?: undefined } | { body?: undefined; errors: Record<string, string[]> } {
  const errors: Record<string, string[]> = {};
  const body: Request = {
    ...templateFrom(f, errors),
    delay_ms: parseWhole(f.delay_ms, 'delay_ms', errors, 0),
    run_at: null,
    unique_key: f.unique_key.trim() || null,
  };
  return Object.keys(errors).length ? { errors } : { body };
}
