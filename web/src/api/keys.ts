/** TanStack Query keys, in one place so that the live events know what to patch or refetch. */
export interface JobFilters {
  state?: string;
  queue?: string;
  type?: string;
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
  workers: ['workers'] as const,
};
