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
