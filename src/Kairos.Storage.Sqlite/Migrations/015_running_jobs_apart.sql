-- Same number and name as PostgreSQL's 015_running_jobs_apart.sql, which leaves running jobs out of the organization's
-- listing indexes so that a lease writes no entry into them (PostgreSQL writes a new entry into every index on each
-- non-HOT update). SQLite updates a row in place and touches only the indexes whose columns changed; nothing changes.
SELECT 1;
