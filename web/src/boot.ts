/**
 * The first module index.html runs: a few KB, no React. It asks the API what the first page needs (who is signed in;
 * on `/`, the dashboard's queries) with `fetch` while the console's code is still loading and
 * running, then loads the console (main.tsx), whose API client takes these answers (api/early.ts). Without it the
 * dashboard's queries would start only once the entry chunk had run. No inline script: the server's CSP allows none.
 */
import { askEarly } from './api/early';
import { askDashboardEarly } from './pages/dashboard/early';
import './index.css';

// index.html's <link rel=preload> has asked already: this fetch takes that answer.
askEarly('/api/v1/auth/me');
if (window.location.pathname === '/') askDashboardEarly();

void import('./main');
