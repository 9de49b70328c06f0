-- The jobs page sorts by priority, run_at and attempt (issue 8). Without an index holding those orders every page of
-- such a list sorted all of the organization's jobs (over 1,000,000 jobs: 1.9 s). With these the first page, and every
-- later one through its (key, seq) cursor, reads a page of entries. SQLite writes an index only when a statement sets
-- one of its columns: priority never changes after the enqueue, run_at only on a retry or a reschedule, attempt at
-- each lease (one entry moved). A filtered list reads them or sorts the filter's few jobs (SqliteJobStore.ListAsync).
CREATE INDEX jobs_org_priority ON jobs (organization_id, priority, seq);
CREATE INDEX jobs_org_run_at ON jobs (organization_id, run_at, seq);
CREATE INDEX jobs_org_attempt ON jobs (organization_id, attempt, seq);
