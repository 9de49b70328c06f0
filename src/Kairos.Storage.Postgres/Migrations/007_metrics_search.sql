-- Charts and search (PostgreSQL). Same tables and meaning as SQLite's 007_metrics_search.sql.

-- The metrics rollup: one row per organization, queue and minute; counts added to by every node (upsert-add),
-- depth and oldest age sampled by the leader, run times a log-scale histogram (jsonb: bucket index -> count).
CREATE TABLE metric_minutes (
    organization_id  uuid NOT NULL,
    queue            text NOT NULL,
    minute           bigint NOT NULL,
    enqueued         bigint NOT NULL DEFAULT 0,
    started          bigint NOT NULL DEFAULT 0,
    succeeded        bigint NOT NULL DEFAULT 0,
    failed           bigint NOT NULL DEFAULT 0,
    retried          bigint NOT NULL DEFAULT 0,
    cancelled        bigint NOT NULL DEFAULT 0,
    runtime_hist     jsonb,
    depth            bigint,
    oldest_age_ms    bigint,
    PRIMARY KEY (organization_id, minute, queue)
);
CREATE INDEX metric_minutes_minute ON metric_minutes (minute);

-- Full-text search over jobs, in a table of its own rather than a column or an expression index of jobs: every
-- state change of a job rewrites its row and would recompute and re-insert the document into a GIN index on jobs.
-- Here an insert of jobs adds the documents (one statement per INSERT, from its transition table), only a change of
-- the error message rewrites one, and a delete of jobs deletes theirs (no foreign key: its check would cost every
-- enqueue a lookup). A tsvector holds at most 1 MB: the payload is indexed up to its first 256 KB.
CREATE TABLE job_search (
    seq              bigint PRIMARY KEY,
    organization_id  uuid NOT NULL,
    document         tsvector NOT NULL
);
CREATE INDEX job_search_document ON job_search USING gin (document);

CREATE FUNCTION job_search_document(id uuid, type text, tags text[], payload text, error_message text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- Words as Kairos.Core.Jobs.JobSearch reads them (runs of letters and digits): the characters with which the parser
    -- would build compound tokens (e-mail addresses, hosts, paths, hyphenated words, versions) become spaces first.
    SELECT to_tsvector('simple', translate(id::text || ' ' || type || ' ' || array_to_string(tags, ' ') || ' ' || left(payload, 262144) || ' ' ||
        coalesce(error_message, ''), '@./:_-+\~#&=?%', '              '))
$$;

CREATE FUNCTION job_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_search (seq, organization_id, document)
    SELECT n.seq, n.organization_id, job_search_document(n.id, n.type, n.tags, n.payload, n.error_message) FROM inserted n;
    RETURN NULL;
END $$;
CREATE TRIGGER job_search_insert AFTER INSERT ON jobs REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION job_search_insert();

CREATE FUNCTION job_search_error() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE job_search SET document = job_search_document(NEW.id, NEW.type, NEW.tags, NEW.payload, NEW.error_message) WHERE seq = NEW.seq;
    RETURN NULL;
END $$;
CREATE TRIGGER job_search_error AFTER UPDATE OF error_message ON jobs FOR EACH ROW
    WHEN (OLD.error_message IS DISTINCT FROM NEW.error_message) EXECUTE FUNCTION job_search_error();

CREATE FUNCTION job_search_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM job_search WHERE seq IN (SELECT d.seq FROM deleted d);
    RETURN NULL;
END $$;
CREATE TRIGGER job_search_delete AFTER DELETE ON jobs REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION job_search_delete();

INSERT INTO job_search (seq, organization_id, document)
SELECT seq, organization_id, job_search_document(id, type, tags, payload, error_message) FROM jobs;
