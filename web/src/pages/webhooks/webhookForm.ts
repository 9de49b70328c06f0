/** What the event types field takes. */
export const WEBHOOK_EVENT_HINT = 'Comma-separated: job.failed, job.succeeded, monitor.*, alert.fired, or * for every event';

/** The event types typed in the form: split on commas and spaces, blanks and repeats dropped. */
export function parseEventTypes(text: string): string[] {
  return [...new Set(text.split(/[,\s]+/).map((t) => t.trim()).filter(Boolean))];
}

/** The job state a delivery reads as: a pending one is queued until its first attempt, then retrying. */
export function deliveryBadge(state: string, attempts: number): string {
  return state === 'pending' ? (attempts === 0 ? 'queued' : 'retrying') : state;
}

/** "200", "timeout", "—": how the last attempt of a delivery ended. */
export function statusText(status: number | null | undefined, error?: string | null): string {
  if (status != null) return String(status);
  return error ? 'no answer' : '—';
}

/** The edit form of an endpoint as typed. */
export interface WebhookEditForm {
  url: string;
  types: string;
  description: string;
}

export const webhookEditForm = (w: { url: string; event_types: string[]; description?: string | null }): WebhookEditForm =>
  ({ url: w.url, types: w.event_types.join(', '), description: w.description ?? '' });

/** The PATCH of an edited endpoint (its state left as it is), or what is wrong (named as the server names it). */
export function webhookPatchFrom(f: WebhookEditForm):
  { body: { url: string; description: string | null; event_types: string[]; enabled: null }; errors?: undefined } | { body?: undefined; errors: Record<string, string[]> } {
  const errors: Record<string, string[]> = {};
  const url = f.url.trim();
  const types = parseEventTypes(f.types);
  if (!url) errors.url = ['is required'];
  if (types.length === 0) errors.event_types = ['give at least one event type'];
  if (Object.keys(errors).length) return { errors };
  return { body: { url, description: f.description.trim() || null, event_types: types, enabled: null } };
}
