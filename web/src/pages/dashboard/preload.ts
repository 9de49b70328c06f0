import type { QueryClient } from '@tanstack/react-query';
import type { Stats } from '@/api/client';
import { meQuery, seriesQuery, statsQuery, workersQuery } from '@/api/queries';
import { chunk } from '@/lib/chunk';

/** The page's code, as App's route loads it. */
export const dashboardPage = chunk(() => import('./DashboardPage'));

/** The dashboard's queries, shared by the page and by its preload so both ask for (and cache) the same things. */
export const dashboardQueries = {
  stats: statsQuery,
  workers: workersQuery,
  /** The KPIs of the last 24 hours: succeeded and failed per hour, summed. */
  day: seriesQuery('succeeded,failed', 'hour'),
  throughput: (step: 'minute' | 'hour') => seriesQuery('enqueued,succeeded,failed', step),
  successRate: (step: 'hour' | 'day') => seriesQuery('success_rate', step),
  depth: (queue: string) => seriesQuery('depth', 'minute', queue),
};

/** The queue depth chart draws this many queues at most. */
export const DEPTH_QUEUES = 8;

/** The organization's queues, the deepest (most queued) first. */
export function queuesByDepth(stats: Stats | undefined): string[] {
  return stats ? Object.entries(stats.queues).sort(([, a], [, b]) => (b.queued ?? 0) - (a.queued ?? 0)).map(([name]) => name) : [];
}

/**
 * The dashboard is the landing page. On a first load of `/` its work would otherwise run one step after the other
 * (entry chunk → /auth/me → page chunk → its queries and the ECharts chunk → the depth series once the stats name the
 * queues); this starts the page's chunk and ECharts with the entry, and its queries as soon as /auth/me answers that
 * someone is signed in, so they arrive while React renders the shell. Nothing is asked of the API for a visitor who is
 * not signed in (they are sent to the login page). Settles when every query it started has.
 */
export function preloadDashboard(qc: QueryClient): Promise<void> {
  const ignore = () => {
    // A failed chunk or query is asked for again (and its error shown) where the page needs it.
  };
  dashboardPage.load().catch(ignore);
  import('@/components/chart/echarts').catch(ignore);
  return qc
    .fetchQuery(meQuery)
    .then(async (me) => {
      if (!me) return;
      const depth = qc.fetchQuery(dashboardQueries.stats).then((stats) =>
        Promise.all(queuesByDepth(stats).slice(0, DEPTH_QUEUES).map((queue) => qc.prefetchQuery(dashboardQueries.depth(queue)))));
      await Promise.all([
        qc.prefetchQuery(dashboardQueries.workers),
        qc.prefetchQuery(dashboardQueries.day),
        qc.prefetchQuery(dashboardQueries.throughput('minute')),
        qc.prefetchQuery(dashboardQueries.successRate('hour')),
        depth,
      ]);
    })
    .catch(ignore);
}
