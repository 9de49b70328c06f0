-- Charts and search. Times are unix milliseconds (UTC).

-- The metrics rollup: one row per organization, queue and minute. Counts are added to by every node that saw the
-- transitions (upsert-add of what it counted in memory); depth and the oldest ready job's age are samples the leader
-- takes once a minute; run times are a log-scale histogram (JSON object: bucket index -> count, see
-- Kairos.Core.Metrics.RunTimeHistogram), merged bucket by bucket. Rows outlive the jobs they count (own retention).
CREATE TABLE metric_minutes (
    organization_id  TEXT NOT NULL,
    queue            TEXT NOT NULL,
    minute           INTEGER NOT NULL,
    enqueued         INTEGER NOT NULL DEFAULT 0,
    started          INTEGER NOT NULL DEFAULT 0,
    succeeded        INTEGER NOT NULL DEFAULT 0,
    failed           INTEGER NOT NULL DEFAULT 0,
    retried          INTEGER NOT NULL DEFAULT 0,
    cancelled        INTEGER NOT NULL DEFAULT 0,
    runtime_hist     TEXT,
    depth            INTEGER,
    oldest_age_ms    INTEGER,
    PRIMARY KEY (organization_id, minute, queue)
) WITHOUT ROWID;
CREATE INDEX metric_minutes_minute ON metric_minutes (minute);

-- Full-text search over jobs: an external-content FTS5 index of the job's id, type, tags, payload and last error
-- message, keyed by jobs.seq. Kept by triggers: an insert indexes the job, a delete removes it, and only an update that
-- changes the error message re-indexes it (leases, acks and heartbeats do not touch it).
CREATE VIRTUAL TABLE jobs_fts USING fts5 (
    id, type, tags, payload, error_message,
    content = 'jobs', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER jobs_fts_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO jobs_fts (rowid, id, type, tags, payload, error_message)
    VALUES (new.seq, new.id, new.type, new.tags, new.payload, new.error_message);
END;
CREATE TRIGGER jobs_fts_delete AFTER DELETE ON jobs BEGIN
    INSERT INTO jobs_fts (jobs_fts, rowid, id, type, tags, payload, error_message)
    VALUES ('delete', old.seq, old.id, old.type, old.tags, old.payload, old.error_message);
END;
CREATE TRIGGER jobs_fts_error AFTER UPDATE OF error_message ON jobs WHEN old.error_message IS NOT new.error_message BEGIN
    INSERT INTO jobs_fts (jobs_fts, rowid, id, type, tags, payload, error_message)
    VALUES ('delete', old.seq, old.id, old.type, old.tags, old.payload, old.error_message);
    INSERT INTO jobs_fts (rowid, id, type, tags, payload, error_message)
    VALUES (new.seq, new.id, new.type, new.tags, new.payload, new.error_message);
END;
INSERT INTO jobs_fts (jobs_fts) VALUES ('rebuild');
