import { describe, expect, it, vi } from 'vitest';
import { QueryClient } from '@tanstack/react-query';
import { keys } from '@/api/keys';
import { connectLiveEvents, createBatcher, EVENT_TYPES, type EventSourceLike, type LiveStatus } from './events';
import type { DomainEvent } from './apply';

class FakeSource implements EventSourceLike {
  readyState = 0;
  onopen: EventSourceLike['onopen'] = null;
  onerror: EventSourceLike['onerror'] = null;
  listeners = new Map<string, (ev: MessageEvent<string>) => void>();
  closed = false;
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (ev: MessageEvent<string>) => void) {
    this.listeners.set(type, listener);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    this.onopen?.call(this, new Event('open'));
  }
  emit(type: string, data: unknown) {
    this.listeners.get(type)?.(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
  fail(closed: boolean) {
    this.readyState = closed ? 2 : 0;
    this.onerror?.call(this, new Event('error'));
  }
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

describe('connectLiveEvents', () => {
  it('reports its status, listens to every event type and applies events to the caches', async () => {
    vi.useFakeTimers();
    const qc = new QueryClient();
    qc.setQueryData(keys.queues, { items: [] });
    const statuses: LiveStatus[] = [];
    const sources: FakeSource[] = [];
    const stop = connectLiveEvents(qc, (s) => statuses.push(s), (url) => {
      const s = new FakeSource(url);
      sources.push(s);
      return s;
    });
    const first = sources[0]!;
    expect(first.url).toBe('/api/v1/events');
    expect([...first.listeners.keys()]).toEqual([...EVENT_TYPES]);
    first.open();
    first.emit('queue.paused', { id: '1', type: 'queue.paused', time: 't', organization_id: 'o', data: { queue: 'q' } });
    await vi.advanceTimersByTimeAsync(50);
    expect(qc.getQueryState(keys.queues)?.isInvalidated).toBe(true);

    first.fail(false);
    first.fail(true);
    expect(statuses).toEqual(['connecting', 'connected', 'reconnecting', 'offline']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sources).toHaveLength(2);
    sources[1]!.open();
    expect(statuses.slice(-2)).toEqual(['reconnecting', 'connected']);
    stop();
    expect(sources[1]!.closed).toBe(true);
    vi.useRealTimers();
  });
});
