-- The jobs page sorts by priority, run_at and attempt (issue 8). Without an index holding those orders every page of
-- such a list sorted all of the organization's jobs (over 1,000,000 jobs: 0.5-0.8 s). Like the listing indexes
-- (migration 015) these leave running jobs out, so that a lease writes no entry into them; a job's enqueue and its ack
-- (or any other change out of running) write one entry into each. A list of every state reads them and the running
-- jobs (through jobs_lease) each in order and merges their first pages (PostgresJobStore.ListAsync).
CREATE INDEX jobs_org_priority ON jobs (organization_id, priority, seq) WHERE state <> 'running';
CREATE INDEX jobs_org_run_at ON jobs (organization_id, run_at, seq) WHERE state <> 'running';
CREATE INDEX jobs_org_attempt ON jobs (organization_id, attempt, seq) WHERE state <> 'running';
