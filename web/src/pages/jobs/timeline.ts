import type { Job } from '@/api/client';

export interface TimelineEntry {
  at: string;
  label: string;
  tone: 'neutral' | 'running' | 'good' | 'bad';
  detail?: string;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/**
 * A job's life in order: created, scheduled (when it waited for a later time), each attempt's start and end (with
 * its worker and error) and how it finished.
 */
export function timelineOf(job: Job): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const created = str(job.created_at);
  if (created) out.push({ at: created, label: 'Created', tone: 'neutral', detail: `on ${job.queue}` });
  const runAt = str(job.run_at);
  if (runAt && created && Date.parse(runAt) - Date.parse(created) > 1000 && !(job.attempts?.length)) {
    out.push({ at: runAt, label: 'Scheduled to run', tone: 'neutral' });
  }
  for (const a of job.attempts ?? []) {
    const started = str(a.started_at);
    const finished = str(a.finished_at);
    const worker = a.worker_id ? `on worker ${a.worker_id.slice(0, 8)}` : undefined;
    if (started) out.push({ at: started, label: `Attempt ${a.number} started`, tone: 'running', detail: worker });
    if (finished) {
      const ok = a.outcome === 'succeeded';
      out.push({ at: finished, label: `Attempt ${a.number} ${a.outcome ?? 'ended'}`, tone: ok ? 'good' : 'bad', detail: a.error?.message });
    }
  }
  const finished = str(job.finished_at);
  if (finished && (job.state === 'cancelled' || !(job.attempts ?? []).some((a) => str(a.finished_at) === finished))) {
    out.push({ at: finished, label: job.state === 'cancelled' ? 'Cancelled' : `Finished: ${job.state}`, tone: job.state === 'succeeded' ? 'good' : job.state === 'failed' ? 'bad' : 'neutral' });
  } else if (job.state === 'retrying' && runAt) {
    out.push({ at: runAt, label: 'Next attempt due', tone: 'neutral' });
  }
  return out.sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
}
