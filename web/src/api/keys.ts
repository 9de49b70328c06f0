/** TanStack Query keys, in one place so that the live events know what to patch or refetch. */
export interface JobFilters {
  /** Full-text search over id, type, tags, payload and error messages. */
  q?: string;
  state?: string;
  queue?: string;
  type?: string;
  tag?: string;
  /** Created within this much of now: 1h, 24h, 7d or 30d (relative, so a shared address stays meaningful). */
  since?: string;
  /** The API's sort: a column, `-` before it for descending (the default, -created_at, is newest first). */
  sort?: string;
  cursor?: string;
}

export const SINCE: Readonly<Record<string, { label: string; ms: number }>> = {
  '1h': { label: 'Last hour', ms: 3_600_000 },
  '24h': { label: 'Last 24 hours', ms: 86_400_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 86_400_000 },
  '30d': { label: 'Last 30 days', ms: 30 * 86_400_000 },
};

/** The list's filters as the API's query: `since` becomes created_after. */
export function jobQuery(f: JobFilters, now: number = Date.now()) {
  const { since, ...rest } = f;
  const window = since ? SINCE[since] : undefined;
  return { ...rest, created_after: window ? new Date(now - window.ms).toISOString() : undefined };
}

export interface AuditFilters {
  action?: string;
  actor_type?: string;
  target_type?: string;
  target_id?: string;
  since?: string;
  until?: string;
  cursor?: string;
}

export interface WorkflowFilters {
  state?: string;
  name?: string;
  cursor?: string;
}

export const keys = {
  me: ['me'] as const,
  setup: ['setup'] as const,
  stats: ['stats'] as const,
  readiness: ['readiness'] as const,
  jobs: ['jobs'] as const,
  jobList: (f: JobFilters) => ['jobs', 'list', f] as const,
  job: (id: string) => ['jobs', 'detail', id] as const,
  jobLogs: (id: string) => ['jobs', 'logs', id] as const,
  queues: ['queues'] as const,
  queue: (name: string) => ['queues', 'detail', name] as const,
  workers: ['workers'] as const,
  worker: (id: string) => ['workers', 'detail', id] as const,
  schedules: ['schedules'] as const,
  schedule: (name: string) => ['schedules', 'detail', name] as const,
  scheduleRuns: (name: string) => ['schedules', 'runs', name] as const,
  schedulePreview: (q: Record<string, string>) => ['schedule-preview', q] as const,
  workflows: ['workflows'] as const,
  workflowList: (f: WorkflowFilters) => ['workflows', 'list', f] as const,
  workflow: (id: string) => ['workflows', 'detail', id] as const,
  workflowTemplates: ['workflow-templates'] as const,
  webhooks: ['webhooks'] as const,
  webhook: (id: string) => ['webhooks', 'detail', id] as const,
  webhookDeliveries: (id: string) => ['webhooks', 'deliveries', id] as const,
  webhookDelivery: (id: string, delivery: string) => ['webhooks', 'delivery', id, delivery] as const,
  alertRules: ['alerts', 'rules'] as const,
  alertChannels: ['alerts', 'channels'] as const,
  incidents: (state: string) => ['alerts', 'incidents', state] as const,
  incident: (id: string) => ['alerts', 'incident', id] as const,
  maintenanceWindows: ['alerts', 'maintenance-windows'] as const,
  monitors: ['monitors'] as const,
  monitor: (name: string) => ['monitors', 'detail', name] as const,
  monitorRuns: (name: string, limit: number) => ['monitors', 'runs', name, limit] as const,
  organizationPingKey: ['organization-ping-key'] as const,
  apiKeys: ['api-keys'] as const,
  members: ['members'] as const,
  invites: ['invites'] as const,
  organizations: ['organizations'] as const,
  audit: (f: AuditFilters) => ['audit', f] as const,
};
