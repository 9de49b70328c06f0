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
  /** The depth of each queue, per minute: the deepest eight over the range (the API ranks them). */
  depth: { metric: 'depth', step: 'minute', by: 'queue', limit: '8' },
} as const;

function series(query: Record<string, string>): string {
  return `/api/v1/metrics/series?${new URLSearchParams(query)}`;
}

/**
 * Once `me` (the early /auth/me) says someone is signed in, asks all the dashboard's queries at once (the depth of
 * every queue is one request). Until it has asked them, the client's requests to these paths wait for it.
 */
export function askDashboardEarly(me: Promise<Response>): void {
  askingEarly(['/api/v1/stats', '/api/v1/workers', '/api/v1/metrics/series'], me.then((r) => (r.ok ? ask() : undefined)));
}

function ask(): void {
  askEarly('/api/v1/stats');
  askEarly('/api/v1/workers?limit=500'); // as workersQuery asks it
  for (const s of Object.values(DASHBOARD_SERIES)) askEarly(series(s));
}
