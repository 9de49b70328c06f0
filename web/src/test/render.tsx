import type { ReactElement } from 'react';
import { render } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router';
import { vi } from 'vitest';

/** The address the page navigated to, shown for assertions. */
function Where() {
  const l = useLocation();
  return <output data-testid="location">{l.pathname + l.search}</output>;
}

/** Renders the element at a route (with its own query cache unless one is given: e.g. one a preload filled). */
export function renderAt(url: string, path: string, element: ReactElement, qc = new QueryClient({ defaultOptions: { queries: { retry: false } } })) {
  const view = render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[url]}>
        <Routes>
          <Route path={path} element={element} />
          <Route path="*" element={null} />
        </Routes>
        <Where />
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return { ...view, qc };
}

/**
 * Stands in for fetch: answers by "METHOD /path" (query ignored; a function value is called with the request and
 * may answer later, with a promise; a Response is sent as it is) and records every request.
 */
export function fakeApi(routes: Record<string, unknown>) {
  const calls: Request[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL) => {
    const req = input instanceof Request ? input : new Request(input);
    calls.push(req);
    const key = `${req.method} ${new URL(req.url).pathname}`;
    if (!(key in routes)) return new Response(JSON.stringify({ title: 'Not Found', status: 404 }), { status: 404, headers: { 'Content-Type': 'application/problem+json' } });
    const route = routes[key];
    const body = typeof route === 'function' ? await (route as (r: Request) => unknown)(req) : route;
    if (body instanceof Response) return body.clone();
    return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fn);
  return calls;
}
