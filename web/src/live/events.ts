import { useEffect, useState } from 'react';
import type { QueryClient } from '@tanstack/react-query';
import { applyEvents, type DomainEvent } from './apply';

export type LiveStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/**
 * The event types the console listens to. SSE delivers a named event only to listeners of that name, so each is
 * subscribed; new server events are ignored until added here.
 */
export const EVENT_TYPES = [
  'job.enqueued', 'job.started', 'job.progress', 'job.succeeded', 'job.failed', 'job.retrying', 'job.retried',
  'job.cancelled', 'job.cancel_requested', 'job.deleted', 'job.queued', 'job.scheduled', 'job.pending', 'job.changed',
  'queue.paused', 'queue.resumed', 'queue.purged', 'queue.deleted',
  'worker.registered', 'worker.lost', 'worker.deregistered',
  'schedule.created', 'schedule.updated', 'schedule.deleted', 'schedule.paused', 'schedule.resumed', 'schedule.fired',
  'schedule.skipped', 'schedule.misfired',
] as const;

/** Minimal surface of EventSource, so tests can drive it. */
export interface EventSourceLike {
  readyState: number;
  onopen: ((this: EventSourceLike, ev: Event) => unknown) | null;
  onerror: ((this: EventSourceLike, ev: Event) => unknown) | null;
  addEventListener(type: string, listener: (ev: MessageEvent<string>) => void): void;
  close(): void;
}

/** Coalesces events into one cache update per animation frame (or per tick where there are no frames). */
export function createBatcher(apply: (events: DomainEvent[]) => void, schedule: (fn: () => void) => void = defaultSchedule) {
  let pending: DomainEvent[] = [];
  return (e: DomainEvent) => {
    pending.push(e);
    if (pending.length > 1) return;
    schedule(() => {
      const batch = pending;
      pending = [];
      apply(batch);
    });
  };
}

function defaultSchedule(fn: () => void): void {
  if (typeof requestAnimationFrame === 'function' && typeof document !== 'undefined' && !document.hidden) requestAnimationFrame(fn);
  else setTimeout(fn, 16);
}

/**
 * Subscribes to /api/v1/events (the session cookie authenticates it) and applies each event to the caches. The
 * browser's EventSource reconnects by itself and resumes with Last-Event-ID; a closed source (the server refused
 * it) is reopened after a pause that grows up to 30 s.
 */
export function connectLiveEvents(
  qc: QueryClient,
  onStatus: (s: LiveStatus) => void,
  open: (url: string) => EventSourceLike = (url) => new EventSource(url, { withCredentials: true }) as unknown as EventSourceLike,
): () => void {
  let source: EventSourceLike | null = null;
  let stopped = false;
  let retry = 1000;
  let opened = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const push = createBatcher((batch) => applyEvents(qc, batch));

  const connect = () => {
    onStatus(source ? 'reconnecting' : 'connecting');
    const s = open('/api/v1/events');
    source = s;
    s.onopen = () => {
      retry = 1000;
      // Back after a break: what was missed beyond the server's buffer is refetched.
      if (opened) void qc.invalidateQueries();
      opened = true;
      onStatus('connected');
    };
    s.onerror = () => {
      if (stopped) return;
      if (s.readyState === 2 /* CLOSED */) {
        onStatus('offline');
        s.close();
        timer = setTimeout(connect, retry);
        retry = Math.min(retry * 2, 30_000);
      } else {
        onStatus('reconnecting');
      }
    };
    for (const type of EVENT_TYPES) {
      s.addEventListener(type, (ev) => {
        try {
          push(JSON.parse(ev.data) as DomainEvent);
        } catch {
          // a line that is not JSON is not an event of ours
        }
      });
    }
  };
  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
  };
}

export function useLiveEvents(qc: QueryClient, enabled: boolean): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  useEffect(() => {
    if (!enabled) return;
    return connectLiveEvents(qc, setStatus);
  }, [qc, enabled]);
  return status;
}
