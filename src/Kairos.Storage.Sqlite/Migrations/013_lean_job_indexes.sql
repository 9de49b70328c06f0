-- Same number and name as PostgreSQL's 013_lean_job_indexes.sql, which trims the indexes of jobs that every state change
-- writes (a tag index holding untagged jobs, jobs_worker) and leaves room on pages for the next row versions. SQLite
-- has neither index (tags live in job_tags, written only for tagged jobs; the running jobs of a worker are read
-- through jobs_lease) and updates rows in place, so there is nothing to change here.
SELECT 1;
