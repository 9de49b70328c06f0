/** TanStack Query keys, in one place so that the live events know what to patch or refetch. */
export interface JobFilters {
  state?: string;
  queue?: string;
  type?: string;
  tag?: string;
  cursor?: string;
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

export const keys = {
  me: ['me'] as const,
  setup: ['setup'] as const,
  stats: ['stats'] as const,
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
