import type { QueryClient } from '@tanstack/react-query';
import { meQuery, seriesByQueueQuery, seriesQuery, statsQuery, workersQuery } from '@/api/queries';
import { chunk } from '@/lib/chunk';
import { DASHBOARD_SERIES } from './early';

/** The page's code, as App's route loads it. */
export const dashboardPage = chunk(() => import('./DashboardPage'));

/** The dashboard's queries, shared by the page and by its preload so both ask for (and cache) the same things. */
export const dashboardQueries = {
  stats: statsQuery,
  workers: workersQuery,
  /** The KPIs of the last 24 hours: succeeded and failed per hour, summed. */
  day: seriesQuery(DASHBOARD_SERIES.day.metric, DASHBOARD_SERIES.day.step),
  throughput: (step: 'minute' | 'hour') => seriesQuery(DASHBOARD_SERIES.throughput.metric, step),
  successRate: (step: 'hour' | 'day') => seriesQuery(DASHBOARD_SERIES.successRate.metric, step),
  /** Every queue's depth (the deepest eight), one series each. */
  depth: seriesByQueueQuery(DASHBOARD_SERIES.depth.metric, DASHBOARD_SERIES.depth.step, Number(DASHBOARD_SERIES.depth.limit)),
};

/**
 * The dashboard is the landing page. On a first load of `/` its work would otherwise run one step after the other
 * (entry chunk → /auth/me → page chunk → its queries and the ECharts chunk); this starts the page's chunk and ECharts with the entry, and its queries as soon as /auth/me answers that
 * someone is signed in, so they arrive while React renders the shell. On a first load boot.ts has asked the same
 * queries already (./early.ts), before this code had loaded: the queries here take those answers into the cache. Nothing
 * is asked of the API for a visitor who is not signed in (they are sent to the login page). Settles when every query it
 * started has.
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
      await Promise.all([
        qc.prefetchQuery(dashboardQueries.stats),
        qc.prefetchQuery(dashboardQueries.workers),
        qc.prefetchQuery(dashboardQueries.day),
        qc.prefetchQuery(dashboardQueries.throughput(DASHBOARD_SERIES.throughput.step)),
        qc.prefetchQuery(dashboardQueries.successRate(DASHBOARD_SERIES.successRate.step)),
        qc.prefetchQuery(dashboardQueries.depth),
      ]);
    })
    .catch(ignore);
}
