import { describe, expect, it } from 'vitest';
import type { Job } from '@/api/client';
import { emptyJobForm, formFromJob, jobRequestFrom } from './jobForm';
import { timelineOf } from './timeline';

const job = {
  id: 'j1', queue: 'mail', type: 'email.send', payload: { to: 'a@example.com' }, state: 'failed', priority: 5, run_at: '2026-11-23T10:00:00.000Z',
  attempt: 2, max_attempts: 2, timeout_ms: 30000, unique_key: 'u-1', tags: ['eu', 'billing'], result: null, progress: null, cancel_requested: false,
  created_at: '2026-11-23T10:00:00.000Z', started_at: '2026-11-23T10:00:05.000Z', finished_at: '2026-11-23T10:00:09.000Z', worker_id: 'w1',
  lease_expires_at: null, last_error: { message: 'boom', type: 'IOException', stack: null },
  attempts: [
    { number: 1, worker_id: '0195b5b2-0000-7000-8000-00000000w001', started_at: '2026-11-23T10:00:01.000Z', finished_at: '2026-11-23T10:00:02.000Z', outcome: 'retrying', error: { message: 'timeout', type: null, stack: null } },
    { number: 2, worker_id: null, started_at: '2026-11-23T10:00:05.000Z', finished_at: '2026-11-23T10:00:09.000Z', outcome: 'failed', error: { message: 'boom', type: 'IOException', stack: null } },
  ],
  logs: null, deduplicated: null,
} as unknown as Job;

describe('the create-job form', () => {
  it('makes the request, with empty options left to the server', () => {
    const r = jobRequestFrom({ ...emptyJobForm, queue: ' mail ', type: 'email.send', payload: '{"to": "a@example.com"}', tags: 'eu, , billing' });
    expect(r.body).toEqual({
      queue: 'mail', type: 'email.send', payload: { to: 'a@example.com' }, priority: null, max_attempts: null, timeout_ms: null, delay_ms: null,
      run_at: null, unique_key: null, tags: ['eu', 'billing'],
    });
  });

  it('names every wrong field and makes no request', () => {
    const r = jobRequestFrom({ ...emptyJobForm, queue: '', type: '', payload: '{"a": }', max_attempts: '0', timeout_ms: '1.5', priority: 'high' });
    expect(r.body).toBeUndefined();
    expect(Object.keys(r.errors ?? {}).sort()).toEqual(['max_attempts', 'payload', 'priority', 'queue', 'timeout_ms', 'type']);
    expect(r.errors?.payload?.[0]).toMatch(/line 1, column 7/);
  });

  it('clones a job without its unique key (a copy with it would not be enqueued)', () => {
    const f = formFromJob(job);
    expect(f).toMatchObject({ queue: 'mail', type: 'email.send', priority: '5', max_attempts: '2', timeout_ms: '30000', unique_key: '', tags: 'eu, billing' });
    expect(JSON.parse(f.payload)).toEqual({ to: 'a@example.com' });
  });
});

describe('timelineOf', () => {
  it('lists creation and each attempt in order, with the worker and error', () => {
    const t = timelineOf(job);
    expect(t.map((e) => e.label)).toEqual(['Created', 'Attempt 1 started', 'Attempt 1 retrying', 'Attempt 2 started', 'Attempt 2 failed']);
    expect(t[1]!.detail).toBe('on worker 0195b5b2');
    expect(t[2]).toMatchObject({ tone: 'bad', detail: 'timeout' });
  });

  it('shows a job waiting for a later time, and a cancellation', () => {
    const waiting = { ...job, state: 'scheduled', run_at: '2026-11-23T11:00:00.000Z', attempts: [], finished_at: null } as Job;
    expect(timelineOf(waiting).map((e) => e.label)).toEqual(['Created', 'Scheduled to run']);
    const cancelled = { ...waiting, state: 'cancelled', finished_at: '2026-11-23T10:30:00.000Z' } as Job;
    expect(timelineOf(cancelled).map((e) => e.label)).toEqual(['Created', 'Cancelled', 'Scheduled to run']);
  });
});
