import { describe, expect, it, vi } from 'vitest';
import { QueryClient } from '@tanstack/react-query';
import { keys } from '@/api/keys';
import { backoffMs, connectLiveEvents, createBatcher, socketUrl, type LiveStatus, type SocketLike } from './events';
import { applyEvents, type DomainEvent } from './apply';
import type { Job } from '@/api/client';

class FakeSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  closed = false;
  constructor(readonly url: string) {}
  close() {
    this.closed = true;
  }
  open(gap = false) {
    this.onopen?.(new Event('open'));
    this.send({ type: 'stream.hello', time: 't', organization_id: 'o', data: { last_event_id: null, gap } });
  }
  send(data: unknown) {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(data) }));
  }
  drop() {
    this.onclose?.(new CloseEvent('close', { code: 1006 }));
  }
}

const location = { protocol: 'http:', host: 'kairos.test:7700' };

function setup() {
  const qc = new QueryClient();
  const statuses: LiveStatus[] = [];
  const sockets: FakeSocket[] = [];
  const stop = connectLiveEvents(qc, (s) => statuses.push(s), (url) => {
    const s = new FakeSocket(url);
    sockets.push(s);
    return s;
  }, location);
  return { qc, statuses, sockets, stop };
}

describe('createBatcher', () => {
  it('hands events over once per scheduled frame, in order', () => {
    const frames: (() => void)[] = [];
    const batches: string[][] = [];
    const push = createBatcher((b) => batches.push(b.map((e) => e.id)), (fn) => frames.push(fn));
    for (const id of ['1', '2', '3']) push({ id } as DomainEvent);
    expect(frames).toHaveLength(1);
    frames.shift()!();
    push({ id: '4' } as DomainEvent);
    frames.shift()!();
    expect(batches).toEqual([['1', '2', '3'], ['4']]);
  });
});

describe('a burst of events within one frame', () => {
  it('makes one cache write and one invalidation per affected query, however many events arrived', () => {
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity } } });
    const list = keys.jobList({});
    const otherQueue = keys.jobList({ queue: 'other' });
    const jobs = Array.from({ length: 50 }, (_, i) => ({ id: `j${i}`, queue: 'default', type: 't', state: 'queued', progress: null }) as unknown as Job);
    qc.setQueryData(list, { items: jobs, next_cursor: null });
    qc.setQueryData(otherQueue, { items: [], next_cursor: null });
    qc.setQueryData(keys.job('j7'), jobs[7]);
    qc.setQueryData(keys.stats, { counts: {} });
    const writes = new Map<string, number>();
    qc.getQueryCache().subscribe((e) => {
      if (e.type !== 'updated' || (e.action.type !== 'success' && e.action.type !== 'invalidate')) return;
      const k = `${e.action.type} ${e.query.queryHash}`;
      writes.set(k, (writes.get(k) ?? 0) + 1);
    });
    const frames: (() => void)[] = [];
    const push = createBatcher((batch) => applyEvents(qc, batch), (fn) => frames.push(fn));

    // 10,000 events (progress, then each job started and succeeded) arrive before the next frame.
    let n = 0;
    const send = (type: string, data: Record<string, unknown>) =>
      push({ id: String(++n), type, time: 't', organization_id: 'o', data: { queue: 'default', type: 't', ...data } } as DomainEvent);
    for (let i = 0; i < 9_900; i++) send('job.progress', { job_id: `j${i % 50}`, progress: { percent: i % 100 } });
    for (let i = 0; i < 50; i++) send('job.started', { job_id: `j${i}`, state: 'running' });
    for (let i = 0; i < 50; i++) send('job.succeeded', { job_id: `j${i}`, state: 'succeeded' });
    expect(n).toBe(10_000);
    expect(frames).toHaveLength(1);
    expect(writes.size).toBe(0);

    frames.shift()!();
    const hash = (key: readonly unknown[]) => JSON.stringify(key);
    expect(Object.fromEntries(writes)).toEqual({
      [`success ${hash(list)}`]: 1,
      [`success ${hash(keys.job('j7'))}`]: 1,
      [`invalidate ${hash(list)}`]: 1,
      [`invalidate ${hash(keys.job('j7'))}`]: 1,
      [`invalidate ${hash(keys.stats)}`]: 1,
    });
    expect(qc.getQueryData<{ items: Job[] }>(list)!.items.every((j) => j.state === 'succeeded')).toBe(true);
    expect(qc.getQueryData<Job>(keys.job('j7'))!.state).toBe('succeeded');
    expect(frames).toHaveLength(0);
  });
});

describe('socketUrl and backoffMs', () => {
  it('speaks ws or wss as the page does, and resumes after the last event', () => {
    expect(socketUrl({ protocol: 'https:', host: 'k.example' }, null)).toBe('wss://k.example/api/v1/ws');
    expect(socketUrl(location, '42')).toBe('ws://kairos.test:7700/api/v1/ws?after=42');
  });

  it('waits longer after each failure, up to 30 s, with some jitter', () => {
    expect([0, 1, 2, 3].map((n) => backoffMs(n, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffMs(20, () => 0)).toBe(30_000);
    expect(backoffMs(0, () => 1)).toBe(600);
  });
});

describe('connectLiveEvents', () => {
  it('applies events to the caches and says when it is live', async () => {
    vi.useFakeTimers();
    const { qc, statuses, sockets, stop } = setup();
    qc.setQueryData(keys.queues, { items: [] });
    expect(sockets[0]!.url).toBe('ws://kairos.test:7700/api/v1/ws');
    sockets[0]!.open();
    sockets[0]!.send({ id: '7', type: 'queue.paused', time: 't', organization_id: 'o', data: { queue: 'q' } });
    await vi.advanceTimersByTimeAsync(50);
    expect(qc.getQueryState(keys.queues)?.isInvalidated).toBe(true);
    expect(statuses).toEqual(['connecting', 'connected']);
    stop();
    expect(sockets[0]!.closed).toBe(true);
    vi.useRealTimers();
  });

  it('reconnects with backoff after a break and resumes after the last event, refetching only on a gap', async () => {
    vi.useFakeTimers();
    const { qc, statuses, sockets, stop } = setup();
    qc.setQueryData(keys.workers, { items: [] });
    sockets[0]!.open();
    sockets[0]!.send({ id: '9', type: 'job.progress', time: 't', organization_id: 'o', data: { job_id: 'j', progress: { percent: 1 } } });
    sockets[0]!.drop();
    expect(statuses.at(-1)).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(700);
    expect(sockets).toHaveLength(2);
    expect(sockets[1]!.url).toBe('ws://kairos.test:7700/api/v1/ws?after=9');
    sockets[1]!.open(false);
    expect(statuses.at(-1)).toBe('connected');
    await vi.advanceTimersByTimeAsync(50);
    expect(qc.getQueryState(keys.workers)?.isInvalidated).toBe(false);

    sockets[1]!.drop();
    await vi.advanceTimersByTimeAsync(700);
    sockets[2]!.open(true);
    expect(qc.getQueryState(keys.workers)?.isInvalidated).toBe(true);
    stop();
    vi.useRealTimers();
  });

  it('says offline after failed attempts in a row, and keeps trying', async () => {
    vi.useFakeTimers();
    const { statuses, sockets, stop } = setup();
    for (let i = 0; i < 3; i++) {
      sockets[i]!.drop();
      await vi.advanceTimersByTimeAsync(30_000);
    }
    expect(statuses.at(-1)).toBe('offline');
    expect(sockets).toHaveLength(4);
    sockets[3]!.open();
    expect(statuses.at(-1)).toBe('connected');
    stop();
    vi.useRealTimers();
  });
});
