-- An attempt is written to job_attempts once, when it ends (ack, failure, expiry, a lost worker), instead of inserted
-- at its lease and updated at its end. The running attempt is the job's own row (attempt, worker_id, started_at while
-- state = 'running'); reads of a job's attempts add it (PostgresJobStore.AttemptsSql). Per job of a batch burndown this
-- is one heap insert and two index inserts, instead of an insert (heap + 2 index entries) and a non-HOT update (heap +
-- 3 index entries). A successful attempt is written only in a queue with a concurrency or rate limit (whose leases read
-- the ended attempts): elsewhere the succeeded job's row is its last attempt (number, worker, start, finish), so a
-- burndown's acks write nothing to job_attempts at all.
--
-- The running attempts recorded the old way are removed: their jobs' rows describe them, and their end inserts them.
DELETE FROM job_attempts a USING jobs j
WHERE a.job_id = j.id AND a.number = j.attempt AND j.state = 'running' AND a.finished_at IS NULL;

-- The starts index served the rate limit's count of starts in its window and a limited queue's latest start. Every row
-- of job_attempts now has ended, and an attempt ends no earlier than it started (its finished_at is at least its
-- started_at), so both are read through job_attempts_finishes: starts in the window are among the attempts finished
-- in it, and the latest start of an ended attempt is at most the latest finish. Running jobs are counted from jobs.
DROP INDEX job_attempts_starts;
