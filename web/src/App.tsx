import { Route, Routes } from 'react-router';
import { RequireAuth } from './auth/RequireAuth';
import { AppShell } from './shell/AppShell';
import { DashboardPage } from './pages/dashboard/DashboardPage';
import { JobsPage } from './pages/jobs/JobsPage';
import { JobDetailPage } from './pages/jobs/JobDetailPage';
import { LoginPage } from './pages/login/LoginPage';
import { QueuesPage } from './pages/queues/QueuesPage';
import { SetupPage } from './pages/setup/SetupPage';
import { WorkersPage } from './pages/workers/WorkersPage';
import { Empty } from './components/PageHeader';

export function App() {
  return (
    <Routes>
      <Route path="/setup" element={<SetupPage />} />
      <Route path="/login" element={<LoginPage />} />
      <Route element={<RequireAuth><AppShell /></RequireAuth>}>
        <Route index element={<DashboardPage />} />
        <Route path="jobs" element={<JobsPage />} />
        <Route path="jobs/:id" element={<JobDetailPage />} />
        <Route path="queues" element={<QueuesPage />} />
        <Route path="workers" element={<WorkersPage />} />
        <Route path="*" element={<Empty>Nothing here.</Empty>} />
      </Route>
    </Routes>
  );
}
