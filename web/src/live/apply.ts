import type { QueryClient, QueryKey } from '@tanstack/react-query';
import type { Job, Schemas } from '@/api/client';
import { keys, type JobFilters } from '@/api/keys';

/** The one envelope of every domain event (PRODUCT.md section 7). */
export interface DomainEvent {
  id: string;
  type: string;
  time: string;
  organization_id: string;
  data: Record<string, unknown>;
}

/** The data of a job.* event. */
export interface JobEventData {
  job_id: string;
  // A transition says all of these; job.progress says only the job and its progress.
  queue?: string;
  type?: string;
  state?: string;
  previous_state?: string | null;
  attempt?: number;
  worker_id?: string | null;
  run_at?: string | null;
  error?: { message: string; type?: string | null; stack?: string | null } | null;
  progress?: { percent: number; message?: string | null } | null;
}

interface ListPage<T> {
  items: T[];
  next_cursor?: string | null;
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

function isJobEvent(e: DomainEvent): e is DomainEvent & { data: JobEventData } {
  return e.type.startsWith('job.') && typeof e.data?.job_id === 'string';
}

/** Whether a job (as the event says it now is) belongs in a list with these filters. */
export function matchesFilters(f: JobFilters, d: Pick<JobEventData, 'state' | 'queue' | 'type'>): boolean {
  if (!d.state || !d.queue || !d.type) return false;
  return (!f.state || f.state === d.state) && (!f.queue || f.queue === d.queue) && (!f.type || f.type === d.type);
}

/** The job as the event says it is now, merged into what the cache holds. */
export function patchJob(job: Job, e: DomainEvent & { data: JobEventData }): Job {
  const d = e.data;
  const next: Job = { ...job };
  if (d.state) next.state = d.state;
  if (typeof d.attempt === 'number') next.attempt = d.attempt;
  if (d.worker_id !== undefined) next.worker_id = d.worker_id;
  if (d.error) next.last_error = { message: d.error.message, type: d.error.type ?? null, stack: d.error.stack ?? null };
  if (d.progress) next.progress = { percent: d.progress.percent, message: d.progress.message ?? null };
  if (e.type === 'job.cancel_requested') next.cancel_requested = true;
  return next;
}

type Workflow = Schemas['WorkflowDto'];
type WorkflowStep = Schemas['WorkflowStepDto'];

/** A workflow step with its job as the event says it is now. */
export function patchStep(step: WorkflowStep, e: DomainEvent & { data: JobEventData }): WorkflowStep {
  const d = e.data;
  if (e.type === 'job.deleted') return { ...step, state: 'deleted' };
  const next: WorkflowStep = { ...step };
  if (d.state) next.state = d.state;
  if (typeof d.attempt === 'number') next.attempt = d.attempt;
  if (d.error) next.last_error = { message: d.error.message, type: d.error.type ?? null, stack: d.error.stack ?? null };
  if (e.type === 'job.cancel_requested') next.cancel_requested = true;
  return next;
}

/**
 * Applies a batch of events to the caches: job rows and job details are patched in place at once (so a state change
 * shows without a round trip), and only the queries the events can change are marked stale and refetched: the job
 * lists holding the job or whose filters it now matches, the job itself, counts (stats, queues), workers. Each query
 * is invalidated once per batch, however many events touch it.
 */
export function applyEvents(qc: QueryClient, events: readonly DomainEvent[]): void {
  const stale = new Map<string, { key: QueryKey; exact: boolean }>();
  // exact: that one query (a job list page, a job); otherwise the key and every query under it (a queue's list and
  // its detail pages).
  const mark = (key: QueryKey, exact = true) => stale.set(JSON.stringify([key, exact]), { key, exact });
  const jobEvents = events.filter(isJobEvent);

  // Job lists: each page is patched once for the whole batch.
  for (const q of qc.getQueryCache().findAll({ queryKey: [...keys.jobs, 'list'] })) {
    const filters = (q.queryKey[2] ?? {}) as JobFilters;
    const page = q.state.data as ListPage<Job> | undefined;
    const index = new Map(page?.items.map((j, i) => [j.id, i]));
    let items: (Job | null)[] | null = null;
    for (const e of jobEvents) {
      const d = e.data;
      const removed = e.type === 'job.deleted';
      const at = index.get(d.job_id);
      if (at !== undefined && page) {
        items ??= [...page.items];
        const current = items[at];
        if (current) items[at] = removed ? null : patchJob(current, e);
        mark(q.queryKey);
      } else if (!removed && !filters.cursor && matchesFilters(filters, d)) {
        // A first page shows new matches; a later page (cursor) only changes for the jobs it holds.
        mark(q.queryKey);
      }
    }
    if (items && page) qc.setQueryData<ListPage<Job>>(q.queryKey, { ...page, items: items.filter((j): j is Job => j !== null) });
  }

  // Workflow pages: a step's node takes its job's new state at once, and the workflow is refetched (children may have
  // left pending, the workflow's own state may have changed).
  for (const q of qc.getQueryCache().findAll({ queryKey: [...keys.workflows, 'detail'] })) {
    const w = q.state.data as Workflow | undefined;
    if (!w?.steps) continue;
    const index = new Map(w.steps.map((s, i) => [s.job_id, i]));
    let steps: WorkflowStep[] | null = null;
    for (const e of jobEvents) {
      const at = index.get(e.data.job_id);
      if (at === undefined) continue;
      steps ??= [...w.steps];
      steps[at] = patchStep(steps[at]!, e);
      if (e.type !== 'job.progress') mark(q.queryKey);
    }
    if (steps) qc.setQueryData<Workflow>(q.queryKey, { ...w, steps });
  }

  // Job details: every event of the batch folded into the job, which is written to the cache once.
  const details = new Map<string, Job>();
  for (const e of events) {
    if (isJobEvent(e)) {
      const id = e.data.job_id;
      const detail = keys.job(id);
      if (e.type === 'job.deleted') {
        details.delete(id);
        qc.removeQueries({ queryKey: detail, exact: true });
      } else {
        const job = details.get(id) ?? qc.getQueryData<Job>(detail);
        if (job) {
          details.set(id, patchJob(job, e));
          if (e.type !== 'job.progress') mark(detail);
        }
      }
      if (e.type !== 'job.progress') {
        mark(keys.stats);
        mark(keys.queues, false);
        // A schedule's run history shows its jobs' states; a worker's page the jobs it runs.
        mark([...keys.schedules, 'runs'], false);
        if (e.type === 'job.started' || FINISHED.has(e.data.state ?? '')) mark([...keys.workers, 'detail'], false);
      }
    } else if (e.type.startsWith('queue.')) {
      mark(keys.queues, false);
      mark(keys.stats);
    } else if (e.type.startsWith('worker.')) {
      mark(keys.workers, false);
      mark(keys.stats);
    } else if (e.type.startsWith('schedule.')) {
      mark(keys.schedules, false);
    } else if (e.type.startsWith('alert.')) {
      mark(['alerts', 'incidents'], false);
    } else if (e.type.startsWith('workflow.')) {
      mark(keys.workflows, false);
    } else if (e.type.startsWith('monitor.')) {
      // A change of state comes with a ping (a run) or a missed one: the monitors and their runs.
      mark(keys.monitors, false);
    }
  }
  for (const [id, job] of details) qc.setQueryData<Job>(keys.job(id), job);
  for (const { key, exact } of stale.values()) void qc.invalidateQueries({ queryKey: key, exact });
}
