/** Answers the API gives in component tests, shaped as the server's DTOs. */
export const me = (permissions: string[], role = 'admin') => ({
  kind: 'user',
  user: { id: 'u1', email: 'ada@example.com', name: 'Ada' },
  api_key: null,
  organizations: [{ id: 'o1', name: 'Acme', role, created_at: '2026-11-01T00:00:00.000Z' }],
  current_organization: { id: 'o1', name: 'Acme', role, created_at: '2026-11-01T00:00:00.000Z' },
  permissions,
  csrf_token: 'csrf-1',
});

export const ADMIN = ['read', 'jobs.write', 'schedules.write', 'queues.manage', 'workers.manage', 'keys.manage', 'members.manage', 'audit.read'];

export const job = (id: string, over: Record<string, unknown> = {}) => ({
  id, queue: 'mail', type: 'email.send', payload: {}, state: 'queued', priority: 0, run_at: null, attempt: 0, max_attempts: 3, timeout_ms: null,
  unique_key: null, tags: [], result: null, progress: null, cancel_requested: false, created_at: '2026-11-23T10:00:00.000Z', started_at: null,
  finished_at: null, worker_id: null, lease_expires_at: null, last_error: null, attempts: null, logs: null, deduplicated: null, ...over,
});

export const queue = (name: string, over: Record<string, unknown> = {}) => ({
  name, paused: false, pause_reason: null, concurrency_limit: null, rate_limit: null, default_max_attempts: null, default_timeout_ms: null,
  counts: {}, oldest_queued_age_ms: null, throughput_last_minute: 0, created_at: '2026-11-23T10:00:00.000Z', ...over,
});
