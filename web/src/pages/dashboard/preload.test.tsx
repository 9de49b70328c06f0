import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import { QueryClient } from '@tanstack/react-query';
import { fakeApi, renderAt } from '@/test/render';
import { ADMIN, me } from '@/test/fixtures';
import { askEarly, forgetEarly } from '@/api/early';
import { DashboardPage } from './DashboardPage';
import { askDashboardEarly } from './early';
import { dashboardQueries, preloadDashboard } from './preload';

afterEach(() => {
  forgetEarly();
  vi.unstubAllGlobals();
});

const stats = {
  counts: { queued: 7, running: 1 },
  // mail is the deepest, then billing; reports has nothing queued.
  queues: { reports: { queued: 0 }, mail: { queued: 5 }, billing: { queued: 2 } },
  throughput_last_minute: 3,
  system: { version: '1.2.3', storage: 'sqlite', durability: 'wal', started_at: '2026-12-04T00:00:00.000Z', uptime_ms: 1000 },
};

const series = (req: Request) => {
  const q = new URL(req.url).searchParams;
  const metrics = q.get('metric')!.split(',');
  // By queue: a series per queue of the stats and metric, the deepest first.
  const queues = q.get('by') === 'queue' ? ['mail', 'billing', 'reports'] : [null];
  return {
    step: q.get('step'), from: '2026-12-04T00:00:00.000Z', to: '2026-12-04T01:00:00.000Z', queue: q.get('queue'),
    series: queues.flatMap((queue) => metrics.map((metric) => ({ metric, queue, points: [{ time: '2026-12-04T00:00:00.000Z', value: 4 }] }))),
  };
};

/** The API's answers as the page reads them, in the order asked: "/path?query". */
const asked = (calls: Request[]) => calls.map((r) => {
  const u = new URL(r.url);
  return u.pathname + u.search;
});

/** Everything the dashboard asks for on its first load (the page itself also asks the store's readiness). */
const DASHBOARD_ASKS = [
  '/api/v1/auth/me',
  '/api/v1/metrics/series?metric=depth&step=minute&by=queue&limit=8',
  '/api/v1/metrics/series?metric=enqueued%2Csucceeded%2Cfailed&step=minute',
  '/api/v1/metrics/series?metric=succeeded%2Cfailed&step=hour',
  '/api/v1/metrics/series?metric=success_rate&step=hour',
  '/api/v1/stats',
  '/api/v1/workers?limit=500',
];

const UNAUTHORIZED = new Response(JSON.stringify({ title: 'Unauthorized', status: 401 }), { status: 401, headers: { 'Content-Type': 'application/problem+json' } });

const ROUTES = {
  'GET /api/v1/auth/me': me(ADMIN),
  'GET /api/v1/stats': stats,
  'GET /api/v1/workers': { items: [], next_cursor: null },
  'GET /api/v1/metrics/series': series,
  'GET /readyz': {},
};

// The cache as main.tsx makes it: what was fetched stays fresh for 10 s.
const client = () => new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: 10_000 } } });

describe('the dashboard preload', () => {
  it('asks for the dashboard\'s data once /auth/me answers, every queue\'s depth in one request, and the page then asks nothing again', async () => {
    const calls = fakeApi(ROUTES);
    const qc = client();
    await preloadDashboard(qc);
    const preloaded = asked(calls);
    expect(preloaded[0]).toBe('/api/v1/auth/me');
    expect([...preloaded].sort()).toEqual(DASHBOARD_ASKS);

    renderAt('/', '/', <DashboardPage />, qc);
    // Shown from the cache: the queued KPI (queued + scheduled) and the 24 h sums of the hourly series.
    await waitFor(() => expect(screen.getByTestId('kpi-queued').textContent).toBe('7'));
    expect(screen.getByTestId('kpi-succeeded-24h').textContent).toBe('4');
    // The start time in the reader's locale comes once the page is idle (Intl's first use is slow).
    await waitFor(() => expect(screen.getByText(new Date(stats.system.started_at).toLocaleString())).toBeTruthy());
    expect(screen.getByRole('link', { name: 'mail' })).toBeTruthy();
    // Only the store's readiness (not preloaded) is asked by the page itself.
    await waitFor(() => expect(asked(calls)).toContain('/readyz'));
    expect(asked(calls).filter((c) => c !== '/readyz')).toEqual(preloaded);
  });

  it('takes what boot.ts asked before the console loaded: nothing is asked twice, nothing waits for /auth/me or the stats', async () => {
    const calls = fakeApi(ROUTES);
    // /auth/me and the stats answer only when let go: every other query, the depth of the queues included, is asked before.
    const api = globalThis.fetch;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held = ['/api/v1/auth/me', '/api/v1/stats'];
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
      if (held.includes(new URL(input instanceof Request ? input.url : input.toString()).pathname)) await released;
      return api(input, init);
    });

    // As boot.ts, then main.tsx at once.
    askEarly('/api/v1/auth/me');
    askDashboardEarly();
    const qc = client();
    const preload = preloadDashboard(qc);
    // (the fake API sees the held ones once they are let go)
    await waitFor(() => expect([...asked(calls)].sort()).toEqual(DASHBOARD_ASKS.filter((a) => !held.includes(a))));
    expect(qc.getQueryData(['stats'])).toBeUndefined();
    release();
    await preload;
    const preloaded = asked(calls);
    expect([...preloaded].sort()).toEqual(DASHBOARD_ASKS);
    expect(qc.getQueryData(['stats'])).toEqual(stats);

    renderAt('/', '/', <DashboardPage />, qc);
    await waitFor(() => expect(screen.getByTestId('kpi-queued').textContent).toBe('7'));
    expect(screen.getByRole('link', { name: 'mail' })).toBeTruthy();
    await waitFor(() => expect(asked(calls)).toContain('/readyz'));
    expect(asked(calls).filter((c) => c !== '/readyz')).toEqual(preloaded);
  });

  it('for a visitor who is not signed in, the preload takes the early /auth/me and asks nothing more; the early 401s are left and forgotten', async () => {
    const calls = fakeApi(Object.fromEntries(Object.keys(ROUTES).map((route) => [route, UNAUTHORIZED])));
    askEarly('/api/v1/auth/me');
    askDashboardEarly();
    const qc = client();
    await preloadDashboard(qc);
    expect(qc.getQueryData(['me'])).toBeNull();
    expect(qc.getQueryData(['stats'])).toBeUndefined();
    expect([...asked(calls)].sort()).toEqual(DASHBOARD_ASKS);
    forgetEarly();
    await expect(qc.fetchQuery(dashboardQueries.stats)).rejects.toBeTruthy();
    expect(asked(calls).filter((c) => c === '/api/v1/stats')).toHaveLength(2);
  });

  it('forgets the answers nobody took: a later request asks the API', async () => {
    const calls = fakeApi(ROUTES);
    askEarly('/api/v1/stats');
    forgetEarly();
    const qc = client();
    await qc.fetchQuery(dashboardQueries.stats);
    expect(asked(calls)).toEqual(['/api/v1/stats', '/api/v1/stats']);
  });

  it('asks nothing but /auth/me for a visitor who is not signed in', async () => {
    const calls = fakeApi({ 'GET /api/v1/auth/me': UNAUTHORIZED });
    const qc = client();
    await preloadDashboard(qc);
    expect(qc.getQueryData(['me'])).toBeNull();
    expect(asked(calls)).toEqual(['/api/v1/auth/me']);
  });
});
