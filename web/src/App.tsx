import { lazy, Suspense, useState, type ComponentType, type ReactNode } from 'react';
import { Route, Routes } from 'react-router';
import { RequireAuth } from './auth/RequireAuth';
import { AppShell } from './shell/AppShell';
import { LoginPage } from './pages/login/LoginPage';
import { SetupPage } from './pages/setup/SetupPage';
import { Empty, Skeleton } from './components/PageHeader';
import { chunk, type Chunk } from './lib/chunk';
import { dashboardPage } from './pages/dashboard/preload';

/**
 * A page as its own chunk, loaded when first visited (or ahead of that by a preload): the first load carries the shell
 * and one page. A page whose chunk is already loaded renders without suspending.
 */
function lazyPage<K extends string>(page: Chunk<Record<K, ComponentType>> | (() => Promise<Record<K, ComponentType>>), name: K): ReactNode {
  const { load, loaded } = typeof page === 'function' ? chunk(page) : page;
  const Lazy = lazy(() => load().then((m) => ({ default: m[name] as ComponentType })));
  function Page() {
    // Decided once per mount, so the page is not remounted when its chunk arrives meanwhile.
    const [Loaded] = useState<ComponentType | undefined>(() => loaded()?.[name]);
    return Loaded ? <Loaded /> : <Lazy />;
  }
  return <Suspense fallback={loading}><Page /></Suspense>;
}

const loading: ReactNode = (
  <div className="space-y-4" aria-busy>
    <Skeleton className="h-7 w-48" />
    <Skeleton className="h-40 w-full" />
  </div>
);

const AcceptInvitePage = lazyPage(() => import('./pages/invite/AcceptInvitePage'), 'AcceptInvitePage');
const DashboardPage = lazyPage(dashboardPage, 'DashboardPage');
const JobsPage = lazyPage(() => import('./pages/jobs/JobsPage'), 'JobsPage');
const CreateJobPage = lazyPage(() => import('./pages/jobs/CreateJobPage'), 'CreateJobPage');
const JobDetailPage = lazyPage(() => import('./pages/jobs/JobDetailPage'), 'JobDetailPage');
const QueuesPage = lazyPage(() => import('./pages/queues/QueuesPage'), 'QueuesPage');
const QueueDetailPage = lazyPage(() => import('./pages/queues/QueueDetailPage'), 'QueueDetailPage');
const WorkersPage = lazyPage(() => import('./pages/workers/WorkersPage'), 'WorkersPage');
const WorkerDetailPage = lazyPage(() => import('./pages/workers/WorkerDetailPage'), 'WorkerDetailPage');
const SchedulesPage = lazyPage(() => import('./pages/schedules/SchedulesPage'), 'SchedulesPage');
const ScheduleFormPage = lazyPage(() => import('./pages/schedules/ScheduleFormPage'), 'ScheduleFormPage');
const ScheduleDetailPage = lazyPage(() => import('./pages/schedules/ScheduleDetailPage'), 'ScheduleDetailPage');
const WorkflowsPage = lazyPage(() => import('./pages/workflows/WorkflowsPage'), 'WorkflowsPage');
const WorkflowDetailPage = lazyPage(() => import('./pages/workflows/WorkflowDetailPage'), 'WorkflowDetailPage');
const WebhooksPage = lazyPage(() => import('./pages/webhooks/WebhooksPage'), 'WebhooksPage');
const WebhookDetailPage = lazyPage(() => import('./pages/webhooks/WebhookDetailPage'), 'WebhookDetailPage');
const AlertsPage = lazyPage(() => import('./pages/alerts/AlertsPage'), 'AlertsPage');
const MonitorsPage = lazyPage(() => import('./pages/monitors/MonitorsPage'), 'MonitorsPage');
const MonitorFormPage = lazyPage(() => import('./pages/monitors/MonitorFormPage'), 'MonitorFormPage');
const MonitorDetailPage = lazyPage(() => import('./pages/monitors/MonitorDetailPage'), 'MonitorDetailPage');
const SettingsPage = lazyPage(() => import('./pages/settings/SettingsPage'), 'SettingsPage');
const ApiKeysPage = lazyPage(() => import('./pages/settings/ApiKeysPage'), 'ApiKeysPage');
const MembersPage = lazyPage(() => import('./pages/settings/MembersPage'), 'MembersPage');
const AuditPage = lazyPage(() => import('./pages/settings/AuditPage'), 'AuditPage');

export function App() {
  return (
    <Routes>
      <Route path="/setup" element={<SetupPage />} />
      <Route path="/login" element={<LoginPage />} />
      <Route path="/invite" element={AcceptInvitePage} />
      <Route element={<RequireAuth><AppShell /></RequireAuth>}>
        <Route index element={DashboardPage} />
        <Route path="jobs" element={JobsPage} />
        <Route path="jobs/new" element={CreateJobPage} />
        <Route path="jobs/:id" element={JobDetailPage} />
        <Route path="queues" element={QueuesPage} />
        <Route path="queues/:name" element={QueueDetailPage} />
        <Route path="workers" element={WorkersPage} />
        <Route path="workers/:id" element={WorkerDetailPage} />
        <Route path="schedules" element={SchedulesPage} />
        <Route path="schedules/new" element={ScheduleFormPage} />
        <Route path="schedules/:name" element={ScheduleDetailPage} />
        <Route path="schedules/:name/edit" element={ScheduleFormPage} />
        <Route path="workflows" element={WorkflowsPage} />
        <Route path="workflows/:id" element={WorkflowDetailPage} />
        <Route path="webhooks" element={WebhooksPage} />
        <Route path="webhooks/:id" element={WebhookDetailPage} />
        <Route path="alerts" element={AlertsPage} />
        <Route path="monitors" element={MonitorsPage} />
        <Route path="monitors/new" element={MonitorFormPage} />
        <Route path="monitors/:name" element={MonitorDetailPage} />
        <Route path="monitors/:name/edit" element={MonitorFormPage} />
        <Route path="settings" element={SettingsPage} />
        <Route path="settings/api-keys" element={ApiKeysPage} />
        <Route path="settings/members" element={MembersPage} />
        <Route path="settings/audit" element={AuditPage} />
        <Route path="*" element={<Empty>Nothing here.</Empty>} />
      </Route>
    </Routes>
  );
}
