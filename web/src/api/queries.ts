import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, setCsrfToken, unwrap, type Me } from './client';
import { jobQuery, keys, type AuditFilters, type JobFilters, type WorkflowFilters } from './keys';

/** Who is signed in; null when nobody is (401). Keeps the CSRF token for unsafe requests. */
export const meQuery = queryOptions({
  queryKey: keys.me,
  queryFn: async (): Promise<Me | null> => {
    try {
      const me = await unwrap(api.GET('/api/v1/auth/me'));
      setCsrfToken(me.csrf_token);
      return me;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        setCsrfToken(null);
        return null;
      }
      throw e;
    }
  },
  staleTime: 60_000,
});

export function useMe() {
  return useQuery(meQuery);
}

/** Whether the server waits for its first user (asked only where it decides something: nobody signed in). */
export function useSetupRequired(enabled = true) {
  return useQuery({ queryKey: keys.setup, queryFn: () => unwrap(api.GET('/api/v1/setup')), staleTime: Infinity, enabled });
}

/** Signs in (login or setup): the answer is the new /auth/me. */
export function useSignIn<T>(call: (input: T) => Promise<Me>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: (me) => {
      setCsrfToken(me.csrf_token);
      qc.clear();
      qc.setQueryData(keys.me, me);
      qc.setQueryData(keys.setup, { required: false });
    },
  });
}

export function useLogout() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/auth/logout')),
    onSettled: () => {
      setCsrfToken(null);
      qc.clear();
      qc.setQueryData(keys.me, null);
    },
  });
}

export const statsQuery = queryOptions({ queryKey: keys.stats, queryFn: () => unwrap(api.GET('/api/v1/stats')) });

export function useStats() {
  return useQuery(statsQuery);
}

/** The store's status as the server's readiness probe (/readyz) reports it, asked again every 15 s. */
export function useReadiness() {
  return useQuery({
    queryKey: keys.readiness,
    queryFn: async (): Promise<'ready' | 'not ready'> => ((await api.GET('/readyz')).response.ok ? 'ready' : 'not ready'),
    refetchInterval: 15_000,
  });
}

export function useJobs(filters: JobFilters) {
  return useQuery({
    queryKey: keys.jobList(filters),
    queryFn: () => unwrap(api.GET('/api/v1/jobs', { params: { query: { ...jobQuery(filters), limit: '50' } } })),
    placeholderData: (previous) => previous,
  });
}

export function useJob(id: string) {
  return useQuery({ queryKey: keys.job(id), queryFn: () => unwrap(api.GET('/api/v1/jobs/{id}', { params: { path: { id } } })), enabled: !!id });
}

export function useQueues() {
  return useQuery({ queryKey: keys.queues, queryFn: () => unwrap(api.GET('/api/v1/queues', { params: { query: { limit: '500' } } })) });
}

export const workersQuery = queryOptions({ queryKey: keys.workers, queryFn: () => unwrap(api.GET('/api/v1/workers', { params: { query: { limit: '500' } } })) });

export function useWorkers() {
  return useQuery(workersQuery);
}

export function useQueue(name: string) {
  return useQuery({ queryKey: keys.queue(name), queryFn: () => unwrap(api.GET('/api/v1/queues/{name}', { params: { path: { name } } })), enabled: !!name });
}

export function useWorker(id: string) {
  return useQuery({ queryKey: keys.worker(id), queryFn: () => unwrap(api.GET('/api/v1/workers/{id}', { params: { path: { id } } })), enabled: !!id });
}

export function useSchedules() {
  return useQuery({ queryKey: keys.schedules, queryFn: () => unwrap(api.GET('/api/v1/schedules', { params: { query: { limit: '500' } } })) });
}

export function useSchedule(name: string) {
  return useQuery({ queryKey: keys.schedule(name), queryFn: () => unwrap(api.GET('/api/v1/schedules/{name}', { params: { path: { name } } })), enabled: !!name });
}

export function useScheduleRuns(name: string) {
  return useQuery({
    queryKey: keys.scheduleRuns(name),
    queryFn: () => unwrap(api.GET('/api/v1/schedules/{name}/runs', { params: { path: { name }, query: { limit: '100' } } })),
  });
}

/** Workflows, newest first; looked at again every 10 s while shown (their steps' job events do not name them). */
export function useWorkflows(filters: WorkflowFilters) {
  return useQuery({
    queryKey: keys.workflowList(filters),
    queryFn: () => unwrap(api.GET('/api/v1/workflows', { params: { query: { ...filters, limit: '50' } } })),
    placeholderData: (previous) => previous,
    refetchInterval: 10_000,
  });
}

/** One workflow with its steps and edges; its steps' job events patch it live. */
export function useWorkflow(id: string) {
  return useQuery({ queryKey: keys.workflow(id), queryFn: () => unwrap(api.GET('/api/v1/workflows/{id}', { params: { path: { id } } })), enabled: !!id });
}

/** The organization's workflow templates by name (the first 500). */
export function useWorkflowTemplates() {
  return useQuery({
    queryKey: keys.workflowTemplates,
    queryFn: () => unwrap(api.GET('/api/v1/workflow-templates', { params: { query: { limit: '500' } } })),
  });
}

export function useWebhooks(enabled = true) {
  return useQuery({ queryKey: keys.webhooks, queryFn: () => unwrap(api.GET('/api/v1/webhooks', { params: { query: { limit: '500' } } })), enabled });
}

export function useWebhook(id: string) {
  return useQuery({ queryKey: keys.webhook(id), queryFn: () => unwrap(api.GET('/api/v1/webhooks/{id}', { params: { path: { id } } })), enabled: !!id });
}

/** An endpoint's deliveries, newest first; looked at again every 5 s while shown (retries run on the server's clock). */
export function useWebhookDeliveries(id: string) {
  return useQuery({
    queryKey: keys.webhookDeliveries(id),
    queryFn: () => unwrap(api.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id }, query: { limit: '100' } } })),
    enabled: !!id,
    refetchInterval: 5000,
  });
}

export function useWebhookDelivery(id: string, delivery: string | null) {
  return useQuery({
    queryKey: keys.webhookDelivery(id, delivery ?? ''),
    queryFn: () => unwrap(api.GET('/api/v1/webhooks/{id}/deliveries/{deliveryId}', { params: { path: { id, deliveryId: delivery! } } })),
    enabled: !!delivery,
    refetchInterval: (q) => (q.state.data?.state === 'pending' ? 5000 : false),
  });
}

export function useAlertRules() {
  return useQuery({ queryKey: keys.alertRules, queryFn: () => unwrap(api.GET('/api/v1/alert-rules', { params: { query: { limit: '500' } } })) });
}

export function useAlertChannels(enabled: boolean) {
  return useQuery({ queryKey: keys.alertChannels, queryFn: () => unwrap(api.GET('/api/v1/alert-channels', { params: { query: { limit: '500' } } })), enabled });
}

export function useIncidents(state: string) {
  return useQuery({
    queryKey: keys.incidents(state),
    queryFn: () => unwrap(api.GET('/api/v1/incidents', { params: { query: { ...(state ? { state } : {}), limit: '100' } } })),
    refetchInterval: 15_000,
  });
}

/** One incident with its history (its timeline). */
export function useIncident(id: string, enabled = true) {
  return useQuery({ queryKey: keys.incident(id), queryFn: () => unwrap(api.GET('/api/v1/incidents/{id}', { params: { path: { id } } })), enabled: enabled && !!id });
}

export function useMaintenanceWindows() {
  return useQuery({ queryKey: keys.maintenanceWindows, queryFn: () => unwrap(api.GET('/api/v1/maintenance-windows', { params: { query: { all: true } } })) });
}

export function useMonitors() {
  return useQuery({ queryKey: keys.monitors, queryFn: () => unwrap(api.GET('/api/v1/monitors', { params: { query: { limit: '500' } } })) });
}

export function useMonitor(name: string) {
  return useQuery({ queryKey: keys.monitor(name), queryFn: () => unwrap(api.GET('/api/v1/monitors/{name}', { params: { path: { name } } })), enabled: !!name });
}

/**
 * A monitor's latest runs, newest first. A ping that changes no state sends no event, so the runs are also looked at
 * again every 15 s while shown.
 */
export function useMonitorRuns(name: string, limit = 100) {
  return useQuery({
    queryKey: keys.monitorRuns(name, limit),
    queryFn: () => unwrap(api.GET('/api/v1/monitors/{name}/runs', { params: { path: { name }, query: { limit: String(limit) } } })),
    enabled: !!name,
    refetchInterval: 15_000,
  });
}

export function useOrganizationPingKey(enabled: boolean) {
  return useQuery({ queryKey: keys.organizationPingKey, queryFn: () => unwrap(api.GET('/api/v1/monitors/ping-key')), enabled });
}

export function useApiKeys() {
  return useQuery({ queryKey: keys.apiKeys, queryFn: () => unwrap(api.GET('/api/v1/api-keys', { params: { query: { limit: '500' } } })) });
}

export function useMembers() {
  return useQuery({ queryKey: keys.members, queryFn: () => unwrap(api.GET('/api/v1/members', { params: { query: { limit: '500' } } })) });
}

export function useInvites(enabled: boolean) {
  return useQuery({ queryKey: keys.invites, queryFn: () => unwrap(api.GET('/api/v1/invites')), enabled });
}

export function useOrganizations() {
  return useQuery({ queryKey: keys.organizations, queryFn: () => unwrap(api.GET('/api/v1/organizations')) });
}

export function useAudit(filters: AuditFilters) {
  return useQuery({
    queryKey: keys.audit(filters),
    queryFn: () => unwrap(api.GET('/api/v1/audit', { params: { query: { ...filters, limit: '50' } } })),
    placeholderData: (previous) => previous,
  });
}

/** Whether the signed-in user (or key) holds a permission of the policy table (`jobs.write`, `queues.manage`, ...). */
export function useCan(permission: string): boolean {
  const me = useMe().data;
  return !!me?.permissions.includes(permission);
}

/** Description and next fire times of a cron expression or interval, as the form is typed (null: nothing to ask). */
export function useSchedulePreview(query: Record<string, string> | null) {
  return useQuery({
    queryKey: keys.schedulePreview(query ?? {}),
    queryFn: () => unwrap(api.GET('/api/v1/schedules/preview', { params: { query: { ...query, count: '5' } } })),
    enabled: query !== null,
    retry: false,
    staleTime: 60_000,
  });
}

/** Rollup series (`metric` a comma list) per minute, hour or day; refreshed every 30 s (they move by the minute). */
export function seriesQuery(metric: string, step: 'minute' | 'hour' | 'day', queue?: string) {
  return queryOptions({
    queryKey: ['metrics', metric, step, queue ?? null],
    queryFn: () => unwrap(api.GET('/api/v1/metrics/series', { params: { query: { metric, step, queue } } })),
    refetchInterval: 30_000,
  });
}

/** One series per queue (each naming its queue), the `limit` largest by the first metric's total over the range first. */
export function seriesByQueueQuery(metric: string, step: 'minute' | 'hour' | 'day', limit: number) {
  return queryOptions({
    queryKey: ['metrics', metric, step, 'by-queue', limit],
    queryFn: () => unwrap(api.GET('/api/v1/metrics/series', { params: { query: { metric, step, by: 'queue', limit: String(limit) } } })),
    refetchInterval: 30_000,
  });
}

export function useSeries(metric: string, step: 'minute' | 'hour' | 'day', queue?: string) {
  return useQuery({ ...seriesQuery(metric, step, queue), placeholderData: (previous) => previous });
}
