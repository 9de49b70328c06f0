import type { Stats } from '@/api/client';
import { askEarly, askingEarly } from '@/api/early';

/**
 * What the dashboard asks the API on its first render, in plain data (no React, no API client): boot.ts asks it before
 * the console's code has loaded, and preload.ts and the page make their queries from the same figures, so the page
 * finds every answer already taken into its cache.
 */
export const DASHBOARD_SERIES = {
  /** The KPIs of the last 24 hours: succeeded and failed per hour, summed. */
  day: { metric: 'succeeded,failed', step: 'hour' },
  /** The throughput chart, per minute until another step is chosen. */
  throughput: { metric: 'enqueued,succeeded,failed', step: 'minute' },
  /** The success rate chart, per hour until another step is chosen. */
  successRate: { metric: 'success_rate', step: 'hour' },
  /** The depth of one queue, per minute. */
  depth: { metric: 'depth', step: 'minute' },
} as const;

/** The queue depth chart draws this many queues at most. */
export const DEPTH_QUEUES = 8;

/** The organization's queues, the deepest (most queued) first. */
export function queuesByDepth(stats: Stats | undefined): string[] {
  return stats ? Object.entries(stats.queues).sort(([, a], [, b]) => (b.queued ?? 0) - (a.queued ?? 0)).map(([name]) => name) : [];
}


function series({ metric, step }: { metric: string; step: string }, queue?: string): string {
  return `/api/v1/metrics/series?${new URLSearchParams({ metric, step, ...(queue ? { queue } : {}) })}`;
}

/**
 * Once `me` (the early /auth/me) says someone is signed in, asks the dashboard's queries and, once the stats name the
 * queues, the depth of the deepest. Until it has asked all of them, the client's requests to these paths wait for it.
 */
export function askDashboardEarly(me: Promise<Response>): void {
  askingEarly(['/api/v1/stats', '/api/v1/workers', '/api/v1/metrics/series'], me.then((r) => (r.ok ? ask() : undefined)));
}

async function ask(): Promise<void> {
  askEarly('/api/v1/workers?limit=500'); // as workersQuery asks it
  askEarly(series(DASHBOARD_SERIES.day));
  askEarly(series(DASHBOARD_SERIES.throughput));
  askEarly(series(DASHBOARD_SERIES.successRate));
  // Read from a copy, taken before the client reads the answer itself.
  const stats = await askEarly('/api/v1/stats').then((r) => (r.ok ? (r.clone().json() as Promise<Stats>) : undefined));
  for (const queue of queuesByDepth(stats).slice(0, DEPTH_QUEUES)) askEarly(series(DASHBOARD_SERIES.depth, queue));
}
