import { lazy, Suspense } from 'react';
import { Route, Routes } from 'react-router';
import { RequireAuth } from './auth/RequireAuth';
import { AppShell } from './shell/AppShell';
import { LoginPage } from './pages/login/LoginPage';
import { SetupPage } from './pages/setup/SetupPage';
import { Empty, Skeleton } from './components/PageHeader';

// Each page is its own chunk, loaded when first visited: the first load carries the shell and one page.
const DashboardPage = lazy(() => import('./pages/dashboard/DashboardPage').then((m) => ({ default: m.DashboardPage })));
const JobsPage = lazy(() => import('./pages/jobs/JobsPage').then((m) => ({ default: m.JobsPage })));
const JobDetailPage = lazy(() => import('./pages/jobs/JobDetailPage').then((m) => ({ default: m.JobDetailPage })));
const QueuesPage = lazy(() => import('./pages/queues/QueuesPage').then((m) => ({ default: m.QueuesPage })));
const WorkersPage = lazy(() => import('./pages/workers/WorkersPage').then((m) => ({ default: m.WorkersPage })));

const loading = <Skeleton className="h-40 w-full" />;

export function App() {
  return (
    <Routes>
      <Route path="/setup" element={<SetupPage />} />
      <Route path="/login" element={<LoginPage />} />
      <Route element={<RequireAuth><AppShell /></RequireAuth>}>
        <Route index element={<Suspense fallback={loading}><DashboardPage /></Suspense>} />
        <Route path="jobs" element={<Suspense fallback={loading}><JobsPage /></Suspense>} />
        <Route path="jobs/:id" element={<Suspense fallback={loading}><JobDetailPage /></Suspense>} />
        <Route path="queues" element={<Suspense fallback={loading}><QueuesPage /></Suspense>} />
        <Route path="workers" element={<Suspense fallback={loading}><WorkersPage /></Suspense>} />
        <Route path="*" element={<Empty>Nothing here.</Empty>} />
      </Route>
    </Routes>
  );
}
