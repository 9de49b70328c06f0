-- Same number and name as PostgreSQL's 014_attempts_written_once.sql, which writes an attempt's row once, when the
-- attempt ends, to save PostgreSQL a non-HOT update (a new row version and an entry in every index of job_attempts)
-- per job. SQLite updates rows in place, so an attempt inserted at its lease and updated at its end costs little more
-- here; nothing changes.
SELECT 1;
