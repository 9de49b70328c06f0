import { useEffect, useState } from 'react';
import type { QueryClient } from '@tanstack/react-query';
import { applyEvents, type DomainEvent } from './apply';
import { recordActivity, setLiveStatus } from './activity';

export type LiveStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** Minimal surface of WebSocket, so tests can drive it. */
export interface SocketLike {
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent<string>) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  close(code?: number, reason?: string): void;
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

/** The address of the organization's event socket, resuming after the last event seen. */
export function socketUrl(location: Pick<Location, 'protocol' | 'host'>, after: string | null): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/v1/ws${after ? `?after=${encodeURIComponent(after)}` : ''}`;
}

/** How long to wait before the n-th reconnect (from 0): 0.5 s doubling up to 30 s, with up to 20 % jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(500 * 2 ** attempt, 30_000);
  return Math.round(base * (1 + 0.2 * random()));
}

/** After this many failed attempts in a row the indicator says offline (it keeps trying). */
const OFFLINE_AFTER = 3;

/**
 * Keeps a WebSocket to /api/v1/ws (the session cookie authenticates it) and applies each event to the caches, once per
 * animation frame. On a break it reconnects with backoff and resumes after the last event it saw (?after=); when the
 * server says events were lost meanwhile (hello with gap), or on the first connect after a break without a resume
 * point, every query is refetched instead.
 */
export function connectLiveEvents(
  qc: QueryClient,
  onStatus: (s: LiveStatus) => void,
  open: (url: string) => SocketLike = (url) => new WebSocket(url) as unknown as SocketLike,
  location: Pick<Location, 'protocol' | 'host'> = window.location,
): () => void {
  let socket: SocketLike | null = null;
  let stopped = false;
  let failures = 0;
  let lastId: string | null = null;
  let everConnected = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const push = createBatcher((batch) => {
    applyEvents(qc, batch);
    recordActivity(batch);
  });

  const connect = () => {
    onStatus(everConnected || failures > 0 ? (failures >= OFFLINE_AFTER ? 'offline' : 'reconnecting') : 'connecting');
    const s = open(socketUrl(location, lastId));
    socket = s;
    let opened = false;
    s.onopen = () => {
      opened = true;
    };
    s.onmessage = (ev) => {
      let e: DomainEvent;
      try {
        e = JSON.parse(ev.data) as DomainEvent;
      } catch {
        return; // not an event of ours
      }
      if (e.type === 'stream.hello') {
        const gap = (e.data as { gap?: boolean } | undefined)?.gap === true;
        // Back after a break: what was missed is replayed after the hello, unless the server no longer has it.
        if (everConnected && (gap || lastId === null)) void qc.invalidateQueries();
        everConnected = true;
        failures = 0;
        onStatus('connected');
        return;
      }
      if (typeof e.id === 'string') lastId = e.id;
      push(e);
    };
    s.onerror = () => {
      // onclose follows and decides.
    };
    s.onclose = () => {
      if (stopped || socket !== s) return;
      if (!opened) failures++;
      else failures = Math.max(failures, 1);
      onStatus(failures >= OFFLINE_AFTER ? 'offline' : 'reconnecting');
      timer = setTimeout(connect, backoffMs(failures - 1));
    };
  };
  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    socket?.close(1000, 'page closed');
  };
}

export function useLiveEvents(qc: QueryClient, enabled: boolean): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  useEffect(() => {
    if (!enabled) return;
    return connectLiveEvents(qc, (s) => {
      setStatus(s);
      setLiveStatus(s);
    });
  }, [qc, enabled]);
  return status;
}
