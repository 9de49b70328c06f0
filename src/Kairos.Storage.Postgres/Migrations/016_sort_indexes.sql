-- The jobs page sorts by priority, run_at and attempt (issue 8). Without an index holding those orders every page of
-- such a list sorted all of the organization's jobs (over 1,000,000 jobs: 0.5-0.8 s). Each key gets two indexes on
-- (organization_id, key, seq): one over the finished jobs, written once by the statement that ends a job, and one over
-- the waiting jobs (neither finished nor running), written at the enqueue (and when a retry puts a job back). A lease
-- writes neither (running jobs are read through jobs_lease, as in migration 015), and an ack writes only the first:
-- its entry lands at the end of the finished ones. One index per key over every job but the running ones cost the
-- batch burndown a quarter of its rate (9,269 -> 6,465 jobs/s): each ack's entry landed beside the job's entry from
-- its enqueue, a dead version by then, on a full page. The three parts are merged by PostgresJobStore.ListBySortIndexAsync.
CREATE INDEX jobs_finished_priority ON jobs (organization_id, priority, seq) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_finished_run_at ON jobs (organization_id, run_at, seq) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_finished_attempt ON jobs (organization_id, attempt, seq) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_waiting_priority ON jobs (organization_id, priority, seq) WHERE finished_at IS NULL AND state <> 'running';
CREATE INDEX jobs_waiting_run_at ON jobs (organization_id, run_at, seq) WHERE finished_at IS NULL AND state <> 'running';
CREATE INDEX jobs_waiting_attempt ON jobs (organization_id, attempt, seq) WHERE finished_at IS NULL AND state <> 'running';
