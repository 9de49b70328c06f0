import { useSyncExternalStore } from 'react';
import type { DomainEvent } from './apply';
import type { LiveStatus } from './events';

/** The latest events of the stream (newest first) for the activity feed, and the stream's status, as small stores. */
const LIMIT = 50;
let recent: readonly DomainEvent[] = [];
let status: LiveStatus = 'connecting';
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((l) => l());

/** Keeps the batch's events, newest first; progress ticks are not activity. */
export function recordActivity(batch: readonly DomainEvent[]): void {
  const kept = batch.filter((e) => e.type !== 'job.progress');
  if (kept.length === 0) return;
  recent = [...kept.slice(-LIMIT).reverse(), ...recent].slice(0, LIMIT);
  emit();
}

export function setLiveStatus(s: LiveStatus): void {
  if (s === status) return;
  status = s;
  emit();
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useRecentActivity(): readonly DomainEvent[] {
  return useSyncExternalStore(subscribe, () => recent, () => recent);
}

export function useLiveStatus(): LiveStatus {
  return useSyncExternalStore(subscribe, () => status, () => status);
}

/** One line for an event in the feed: what happened, to what. */
export function describeEvent(e: DomainEvent): { text: string; href?: string } {
  const d = e.data ?? {};
  const s = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : undefined);
  const [kind, verb = ''] = e.type.split('.');
  switch (kind) {
    case 'job': {
      const error = (d.error as { message?: string } | undefined)?.message;
      return { text: `${s('type') ?? 'job'} ${verb.replace('_', ' ')}${s('queue') ? ` on ${s('queue')}` : ''}${error ? `: ${error}` : ''}`, href: s('job_id') && verb !== 'deleted' ? `/jobs/${s('job_id')}` : undefined };
    }
    case 'queue':
      return { text: `Queue ${s('queue') ?? ''} ${verb}${s('reason') ? `: ${s('reason')}` : ''}`, href: s('queue') ? `/queues/${encodeURIComponent(s('queue')!)}` : undefined };
    case 'worker':
      return { text: `Worker ${s('name') ?? ''} ${verb}`, href: s('worker_id') && verb !== 'deregistered' ? `/workers/${s('worker_id')}` : undefined };
    case 'schedule':
      return { text: `Schedule ${s('schedule') ?? s('name') ?? ''} ${verb}`, href: s('schedule') ? `/schedules/${encodeURIComponent(s('schedule')!)}` : undefined };
    default:
      return { text: e.type };
  }
}
