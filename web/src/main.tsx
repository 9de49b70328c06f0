import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ApiError } from './api/client';
import { meQuery } from './api/queries';
import { App } from './App';
import { preloadDashboard } from './pages/dashboard/preload';
import { applyTheme, storedTheme } from './lib/theme';
import './index.css';

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
// code and its queries with it.
if (window.location.pathname === '/') void preloadDashboard(queryClient);
else void queryClient.prefetchQuery(meQuery);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
