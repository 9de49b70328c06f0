-- The organization's listing indexes leave running jobs out. A job's state is in these indexes, so every lease (queued
-- -> running) and every ack (running -> succeeded) is a non-HOT update that writes a new entry into each of them. With
-- "WHERE state <> 'running'" a lease writes none of the four: its new row version goes only into the primary key, the
-- id index and jobs_lease, which already holds exactly the running jobs (as many as the workers' capacity). Measured
-- over a batch burndown (pg_stat_statements, 30,000 jobs): the lease statement's WAL records per job 9.9 -> 5.8.
--
-- Queries that read running jobs name them with a literal "state = 'running'" (read through jobs_lease), the others
-- with "state <> 'running'"; a list or count over every state reads both sides (PostgresJobStore.ListAsync,
-- CountByQueueAndStateSql). The indexes are rebuilt here, which takes a while on a large table, once.
DROP INDEX jobs_org_seq;
DROP INDEX jobs_org_queue_state;
DROP INDEX jobs_org_state;
DROP INDEX jobs_org_type;
CREATE INDEX jobs_org_seq ON jobs (organization_id, seq) WHERE state <> 'running';
CREATE INDEX jobs_org_queue_state ON jobs (organization_id, queue, state, seq) WHERE state <> 'running';
CREATE INDEX jobs_org_state ON jobs (organization_id, state, seq) WHERE state <> 'running';
CREATE INDEX jobs_org_type ON jobs (organization_id, type, seq) WHERE state <> 'running';
