import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ApiError } from './api/client';
import { forgetEarly } from './api/early';
import { meQuery } from './api/queries';
import { App } from './App';
import { dashboardPage, preloadDashboard } from './pages/dashboard/preload';
import { applyTheme, storedTheme } from './lib/theme';

// The theme is applied before the first render (no inline script in index.html: the server's CSP allows none).
applyTheme(storedTheme());

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
      refetchOnWindowFocus: true,
    },
  },
});

// Who is signed in is asked before the first render rather than after it; the dashboard (the landing page) starts its
// code and its queries with it. Their answers were asked by boot.ts already (the first module index.html runs); those
// nobody took are forgotten once this settles.
void (window.location.pathname === '/' ? preloadDashboard(queryClient) : queryClient.prefetchQuery(meQuery)).finally(forgetEarly);

const render = () => createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);

// On `/` the page's chunk (announced with modulepreload) is awaited before the first render: a route that suspends shows
// its fallback, and React then holds the page back up to 300 ms after the fallback showed.
if (window.location.pathname === '/') void dashboardPage.load().catch(() => undefined).finally(render);
else render();
