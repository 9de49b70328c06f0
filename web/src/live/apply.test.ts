import { describe, expect, it } from 'vitest';
import { QueryClient } from '@tanstack/react-query';
import type { Job } from '@/api/client';
import { keys } from '@/api/keys';
import { applyEvents, matchesFilters, type DomainEvent } from './apply';

function job(id: string, over: Partial<Job> = {}): Job {
  return {
    id, queue: 'default', type: 'email.send', payload: {}, state: 'queued', priority: 0, run_at: '2026-11-23T10:00:00.000Z',
    attempt: 0, max_attempts: 3, timeout_ms: null, unique_key: null, tags: [], result: null, progress: null,
    cancel_requested: false, created_at: '2026-11-23T10:00:00.000Z', started_at: null, finished_at: null, worker_id: null,
    lease_expires_at: null, last_error: null, attempts: null, logs: null, deduplicated: null, ...over,
  } as Job;
}

function event(type: string, data: Record<string, unknown>, id = '1'): DomainEvent {
  return { id, type, time: '2026-11-23T10:00:01.000Z', organization_id: 'org', data };
}

function client() {
  // Queries without observers are not refetched on invalidation, so staleness is what the tests read.
  return new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity } } });
}

const isStale = (qc: QueryClient, key: readonly unknown[]) => qc.getQueryState(key)?.isInvalidated ?? false;

describe('applyEvents', () => {
  it('patches a listed job in place and marks that list stale', () => {
    const qc = client();
    const all = keys.jobList({});
    qc.setQueryData(all, { items: [job('a'), job('b')], next_cursor: null });
    applyEvents(qc, [event('job.started', { job_id: 'a', queue: 'default', type: 'email.send', state: 'running', attempt: 1, worker_id: 'w1' })]);
    const page = qc.getQueryData<{ items: Job[] }>(all)!;
    expect(page.items.map((j) => [j.id, j.state, j.attempt, j.worker_id])).toEqual([['a', 'running', 1, 'w1'], ['b', 'queued', 0, null]]);
    expect(isStale(qc, all)).toBe(true);
  });

  it('refetches only the first pages whose filters a new job matches', () => {
    const qc = client();
    const emails = keys.jobList({ queue: 'mail' });
    const reports = keys.jobList({ queue: 'reports' });
    const failed = keys.jobList({ state: 'failed' });
    const secondPage = keys.jobList({ queue: 'mail', cursor: 'c2' });
    for (const k of [emails, reports, failed, secondPage]) qc.setQueryData(k, { items: [], next_cursor: null });
    applyEvents(qc, [event('job.enqueued', { job_id: 'n', queue: 'mail', type: 'email.send', state: 'queued' })]);
    expect([emails, reports, failed, secondPage].map((k) => isStale(qc, k))).toEqual([true, false, false, false]);
  });

  it('removes a deleted job from lists and drops its detail', () => {
    const qc = client();
    const all = keys.jobList({});
    qc.setQueryData(all, { items: [job('a'), job('b')], next_cursor: null });
    qc.setQueryData(keys.job('a'), job('a'));
    applyEvents(qc, [event('job.deleted', { job_id: 'a', queue: 'default', type: 'email.send', state: 'queued' })]);
    expect(qc.getQueryData<{ items: Job[] }>(all)!.items.map((j) => j.id)).toEqual(['b']);
    expect(qc.getQueryData(keys.job('a'))).toBeUndefined();
  });

  it('patches the job detail with the error of a failure and marks counts stale', () => {
    const qc = client();
    qc.setQueryData(keys.job('a'), job('a', { state: 'running' }));
    qc.setQueryData(keys.stats, { counts: {} });
    qc.setQueryData(keys.queues, { items: [] });
    qc.setQueryData(keys.workers, { items: [] });
    applyEvents(qc, [
      event('job.failed', { job_id: 'a', queue: 'default', type: 'email.send', state: 'failed', attempt: 3, error: { message: 'boom', type: 'IOException', stack: 'at x' } }),
    ]);
    const detail = qc.getQueryData<Job>(keys.job('a'))!;
    expect(detail.state).toBe('failed');
    expect(detail.last_error).toEqual({ message: 'boom', type: 'IOException', stack: 'at x' });
    expect(isStale(qc, keys.job('a'))).toBe(true);
    expect(isStale(qc, keys.stats)).toBe(true);
    expect(isStale(qc, keys.queues)).toBe(true);
    expect(isStale(qc, keys.workers)).toBe(false);
  });

  it('applies progress without refetching anything', () => {
    const qc = client();
    qc.setQueryData(keys.job('a'), job('a', { state: 'running' }));
    qc.setQueryData(keys.stats, { counts: {} });
    applyEvents(qc, [event('job.progress', { job_id: 'a', queue: 'default', type: 'email.send', state: 'running', progress: { percent: 40, message: 'half-ish' } })]);
    expect(qc.getQueryData<Job>(keys.job('a'))!.progress).toEqual({ percent: 40, message: 'half-ish' });
    expect(isStale(qc, keys.job('a'))).toBe(false);
    expect(isStale(qc, keys.stats)).toBe(false);
  });

  it('keeps the state of a job when a progress event says only the progress (as a job heartbeat sends it)', () => {
    const qc = client();
    const all = keys.jobList({});
    qc.setQueryData(all, { items: [job('b')], next_cursor: null });
    qc.setQueryData(keys.job('a'), job('a', { state: 'running' }));
    applyEvents(qc, [event('job.progress', { job_id: 'a', progress: { percent: 60, message: 'rendering' } })]);
    expect(qc.getQueryData<Job>(keys.job('a'))).toMatchObject({ state: 'running', progress: { percent: 60, message: 'rendering' } });
    expect(isStale(qc, all)).toBe(false);
  });

  it('sends queue and worker events to their lists', () => {
    const qc = client();
    qc.setQueryData(keys.queues, { items: [] });
    qc.setQueryData(keys.workers, { items: [] });
    applyEvents(qc, [event('queue.paused', { queue: 'mail' })]);
    expect([isStale(qc, keys.queues), isStale(qc, keys.workers)]).toEqual([true, false]);
    applyEvents(qc, [event('worker.lost', { worker_id: 'w', name: 'w1' })]);
    expect(isStale(qc, keys.workers)).toBe(true);
  });

  it('sends schedule events to the schedule list and pages, and job changes to run histories and worker pages', () => {
    const qc = client();
    for (const k of [keys.schedules, keys.schedule('nightly'), keys.scheduleRuns('nightly'), keys.queue('mail'), keys.worker('w1')]) qc.setQueryData(k, {});
    applyEvents(qc, [event('schedule.paused', { schedule: 'nightly' })]);
    expect([isStale(qc, keys.schedules), isStale(qc, keys.schedule('nightly')), isStale(qc, keys.queue('mail'))]).toEqual([true, true, false]);
    applyEvents(qc, [event('job.succeeded', { job_id: 'j', queue: 'mail', type: 't', state: 'succeeded' })]);
    expect([isStale(qc, keys.scheduleRuns('nightly')), isStale(qc, keys.queue('mail')), isStale(qc, keys.worker('w1'))]).toEqual([true, true, true]);
  });

  it('sends monitor events to the monitor list, its page and its runs, and nothing else', () => {
    const qc = client();
    for (const k of [keys.monitors, keys.monitor('backup'), keys.monitorRuns('backup', 30), keys.schedules, keys.stats]) qc.setQueryData(k, {});
    applyEvents(qc, [event('monitor.up', { monitor_id: 'm', name: 'backup', slug: 'backup', state: 'up', previous_state: 'new', reason: 'ping' })]);
    expect([keys.monitors, keys.monitor('backup'), keys.monitorRuns('backup', 30), keys.schedules, keys.stats].map((k) => isStale(qc, k)))
      .toEqual([true, true, true, false, false]);
  });

  it('colours a workflow step with its job\'s new state at once and refetches that workflow', () => {
    const qc = client();
    const step = (id: string, job_id: string, state: string) => ({ id, job_id, state, depends_on: [], attempt: 0, last_error: null, cancel_requested: false });
    const wf = { id: 'w1', state: 'running', steps: [step('extract', 'j1', 'running'), step('load', 'j2', 'pending')] };
    qc.setQueryData(keys.workflow('w1'), wf);
    qc.setQueryData(keys.workflow('w2'), { id: 'w2', state: 'running', steps: [step('other', 'j9', 'queued')] });
    applyEvents(qc, [event('job.failed', { job_id: 'j1', queue: 'etl', type: 'extract', state: 'failed', attempt: 1, error: { message: 'no source' } })]);
    const after = qc.getQueryData<typeof wf>(keys.workflow('w1'))!;
    expect(after.steps.map((s) => s.state)).toEqual(['failed', 'pending']);
    expect(after.steps[0]).toMatchObject({ attempt: 1, last_error: { message: 'no source', type: null, stack: null } });
    expect([isStale(qc, keys.workflow('w1')), isStale(qc, keys.workflow('w2'))]).toEqual([true, false]);
    applyEvents(qc, [event('workflow.failed', { workflow_id: 'w2', name: 'etl', state: 'failed' })]);
    expect(isStale(qc, keys.workflow('w2'))).toBe(true);
  });

  it('leaves worker pages alone for a job that only changed its place in line', () => {
    const qc = client();
    qc.setQueryData(keys.worker('w1'), {});
    applyEvents(qc, [event('job.enqueued', { job_id: 'j', queue: 'mail', type: 't', state: 'queued' })]);
    expect(isStale(qc, keys.worker('w1'))).toBe(false);
  });

  it('handles a burst of events for many jobs in one pass', () => {
    const qc = client();
    const all = keys.jobList({});
    qc.setQueryData(all, { items: Array.from({ length: 50 }, (_, i) => job(`j${i}`)), next_cursor: 'c' });
    const burst = Array.from({ length: 10_000 }, (_, i) =>
      event('job.succeeded', { job_id: `j${i % 50}`, queue: 'default', type: 'email.send', state: 'succeeded' }, String(i)),
    );
    applyEvents(qc, burst);
    expect(qc.getQueryData<{ items: Job[] }>(all)!.items.every((j) => j.state === 'succeeded')).toBe(true);
  });
});

describe('matchesFilters', () => {
  it('matches every given filter and ignores absent ones', () => {
    const d = { state: 'queued', queue: 'mail', type: 'email.send' };
    expect(matchesFilters({}, d)).toBe(true);
    expect(matchesFilters({ state: 'queued', queue: 'mail' }, d)).toBe(true);
    expect(matchesFilters({ type: 'report' }, d)).toBe(false);
  });
});
