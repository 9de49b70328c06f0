-- Kairos schema, version 1 (PostgreSQL). Same tables and meaning as SQLite's 001_initial.sql.
-- Times are unix milliseconds (UTC) taken from the server's clock abstraction, never the database's now().
-- Tables are created unqualified: they land in the first schema of the connection's search_path.
CREATE TABLE organizations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    created_at  bigint NOT NULL
);
INSERT INTO organizations (id, name, created_at) VALUES ('00000000-0000-7000-8000-000000000001', 'default', 0);

-- Leases of a queue that has a concurrency or rate limit lock its row (SELECT ... FOR UPDATE) so they serialize.
CREATE TABLE queues (
    organization_id       uuid NOT NULL,
    name                  text NOT NULL CHECK (length(name) > 0),
    paused                boolean NOT NULL DEFAULT false,
    pause_reason          text,
    concurrency_limit     integer,
    rate_limit            integer,
    rate_period_ms        integer,
    default_max_attempts  integer,
    default_timeout_ms    integer,
    created_at            bigint NOT NULL,
    PRIMARY KEY (organization_id, name)
);

-- seq orders jobs: FIFO within a priority, newest first in listings, and the listing cursor.
CREATE TABLE jobs (
    seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                uuid NOT NULL UNIQUE,
    organization_id   uuid NOT NULL,
    queue             text NOT NULL CHECK (length(queue) > 0),
    type              text NOT NULL CHECK (length(type) > 0),
    payload           text NOT NULL,
    priority          integer NOT NULL DEFAULT 0,
    state             text NOT NULL,
    run_at            bigint NOT NULL,
    max_attempts      integer NOT NULL,
    attempt           integer NOT NULL DEFAULT 0,
    timeout_ms        integer,
    unique_key        text,
    tags              text[] NOT NULL DEFAULT '{}',
    result            text,
    progress_percent  integer,
    progress_message  text,
    cancel_requested  boolean NOT NULL DEFAULT false,
    created_at        bigint NOT NULL,
    started_at        bigint,
    finished_at       bigint,
    worker_id         uuid,
    lease_token       uuid,
    lease_expires_at  bigint,
    lease_ms          integer,
    error_message     text,
    error_type        text,
    error_stack       text
);
CREATE INDEX jobs_org_seq ON jobs (organization_id, seq);
CREATE INDEX jobs_org_queue_state ON jobs (organization_id, queue, state, seq);
CREATE INDEX jobs_org_state ON jobs (organization_id, state, seq);
CREATE INDEX jobs_org_type ON jobs (organization_id, type, seq);
CREATE INDEX jobs_ready ON jobs (organization_id, queue, priority DESC, seq) WHERE state = 'queued';
CREATE INDEX jobs_due ON jobs (run_at) WHERE state IN ('scheduled', 'retrying');
CREATE INDEX jobs_lease ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_worker ON jobs (worker_id) WHERE state = 'running';
CREATE INDEX jobs_finished ON jobs (organization_id, finished_at) WHERE finished_at IS NOT NULL;
-- Tags live in the row (SQLite keeps a job_tags table); the tag filter is "tags @> ARRAY[tag]".
CREATE INDEX jobs_tags ON jobs USING gin (tags);
-- Enqueue inserts with ON CONFLICT ... DO NOTHING against this index, then returns the job that holds the key.
CREATE UNIQUE INDEX jobs_unique ON jobs (organization_id, queue, unique_key)
    WHERE unique_key IS NOT NULL AND state NOT IN ('succeeded', 'failed', 'cancelled');

CREATE TABLE job_attempts (
    job_id           uuid NOT NULL,
    number           integer NOT NULL,
    organization_id  uuid NOT NULL,
    queue            text NOT NULL,
    worker_id        uuid,
    started_at       bigint NOT NULL,
    finished_at      bigint,
    outcome          text,
    error_message    text,
    error_type       text,
    error_stack      text,
    PRIMARY KEY (job_id, number)
);
-- Rate limits count the starts of a queue in a window; a limited queue's next lease starts no earlier than its
-- latest recorded start or finish (see the lease in PostgresJobStore).
CREATE INDEX job_attempts_starts ON job_attempts (organization_id, queue, started_at);
CREATE INDEX job_attempts_finishes ON job_attempts (organization_id, queue, finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE job_logs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  uuid NOT NULL,
    job_id           uuid NOT NULL,
    attempt          integer NOT NULL,
    at               bigint NOT NULL,
    line             text NOT NULL
);
CREATE INDEX job_logs_job ON job_logs (job_id, id);

-- Every lease touches last_heartbeat_at: no index on it keeps those updates HOT (the table is small, a scan is cheap).
CREATE TABLE workers (
    id                 uuid PRIMARY KEY,
    organization_id    uuid NOT NULL,
    name               text NOT NULL,
    host               text,
    pid                integer,
    queues             text[] NOT NULL,
    capacity           integer NOT NULL,
    labels             jsonb NOT NULL,
    version            text,
    state              text NOT NULL,
    registered_at      bigint NOT NULL,
    last_heartbeat_at  bigint NOT NULL
);
CREATE INDEX workers_org ON workers (organization_id, registered_at);

CREATE TABLE api_keys (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL,
    name             text NOT NULL,
    prefix           text NOT NULL,
    hash             text NOT NULL UNIQUE,
    scopes           integer NOT NULL,
    created_at       bigint NOT NULL,
    expires_at       bigint,
    last_used_at     bigint,
    revoked_at       bigint
);
CREATE INDEX api_keys_org ON api_keys (organization_id, created_at);
