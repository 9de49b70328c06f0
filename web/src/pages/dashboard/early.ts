import { askEarly } from '@/api/early';

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
 * Asks all the dashboard's queries at once, with /auth/me rather than after it: waiting for its answer put them a
 * round trip (and whatever the main thread was busy with) later. For a visitor who is not signed in they answer 401,
 * and nobody takes those answers (the console sends them to the login page).
 */
export function askDashboardEarly(): void {
  askEarly('/api/v1/stats');
  askEarly('/api/v1/workers?limit=500'); // as workersQuery asks it
  for (const s of Object.values(DASHBOARD_SERIES)) askEarly(series(s));
}
