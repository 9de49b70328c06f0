-- Kairos schema, version 1. Times are unix milliseconds (UTC); ids are UUIDv7 text.
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
INSERT INTO organizations (id, name, created_at) VALUES ('00000000-0000-7000-8000-000000000001', 'default', 0);

CREATE TABLE queues (
    organization_id       TEXT NOT NULL,
    name                  TEXT NOT NULL CHECK (length(name) > 0),
    paused                INTEGER NOT NULL DEFAULT 0,
    pause_reason          TEXT,
    concurrency_limit     INTEGER,
    rate_limit            INTEGER,
    rate_period_ms        INTEGER,
    default_max_attempts  INTEGER,
    default_timeout_ms    INTEGER,
    created_at            INTEGER NOT NULL,
    PRIMARY KEY (organization_id, name)
) WITHOUT ROWID;

-- seq orders jobs: FIFO within a priority, newest first in listings, and the listing cursor.
CREATE TABLE jobs (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    organization_id   TEXT NOT NULL,
    queue             TEXT NOT NULL CHECK (length(queue) > 0),
    type              TEXT NOT NULL CHECK (length(type) > 0),
    payload           TEXT NOT NULL,
    priority          INTEGER NOT NULL DEFAULT 0,
    state             TEXT NOT NULL,
    run_at            INTEGER NOT NULL,
    max_attempts      INTEGER NOT NULL,
    attempt           INTEGER NOT NULL DEFAULT 0,
    timeout_ms        INTEGER,
    unique_key        TEXT,
    tags              TEXT,
    result            TEXT,
    progress_percent  INTEGER,
    progress_message  TEXT,
    cancel_requested  INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER,
    worker_id         TEXT,
    lease_token       TEXT,
    lease_expires_at  INTEGER,
    lease_ms          INTEGER,
    error_message     TEXT,
    error_type        TEXT,
    error_stack       TEXT
);
CREATE INDEX jobs_org_seq ON jobs (organization_id, seq);
CREATE INDEX jobs_org_queue_state ON jobs (organization_id, queue, state, seq);
CREATE INDEX jobs_org_state ON jobs (organization_id, state, seq);
CREATE INDEX jobs_org_type ON jobs (organization_id, type, seq);
CREATE INDEX jobs_ready ON jobs (organization_id, queue, priority DESC, seq) WHERE state = 'queued';
CREATE INDEX jobs_due ON jobs (run_at) WHERE state IN ('scheduled', 'retrying');
CREATE INDEX jobs_lease ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_finished ON jobs (organization_id, finished_at) WHERE finished_at IS NOT NULL;
CREATE UNIQUE INDEX jobs_unique ON jobs (organization_id, queue, unique_key)
    WHERE unique_key IS NOT NULL AND state NOT IN ('succeeded', 'failed', 'cancelled');

CREATE TABLE job_tags (
    organization_id  TEXT NOT NULL,
    tag              TEXT NOT NULL,
    job_seq          INTEGER NOT NULL,
    PRIMARY KEY (organization_id, tag, job_seq)
) WITHOUT ROWID;

CREATE TABLE job_attempts (
    job_id           TEXT NOT NULL,
    number           INTEGER NOT NULL,
    organization_id  TEXT NOT NULL,
    queue            TEXT NOT NULL,
    worker_id        TEXT,
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    outcome          TEXT,
    error_message    TEXT,
    error_type       TEXT,
    error_stack      TEXT,
    PRIMARY KEY (job_id, number)
) WITHOUT ROWID;
-- Rate limits count the starts of a queue in a window.
CREATE INDEX job_attempts_starts ON job_attempts (organization_id, queue, started_at);

CREATE TABLE job_logs (
    id               INTEGER PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    job_id           TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    at               INTEGER NOT NULL,
    line             TEXT NOT NULL
);
CREATE INDEX job_logs_job ON job_logs (job_id, id);

CREATE TABLE workers (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL,
    name               TEXT NOT NULL,
    host               TEXT,
    pid                INTEGER,
    queues             TEXT NOT NULL,
    capacity           INTEGER NOT NULL,
    labels             TEXT NOT NULL,
    version            TEXT,
    state              TEXT NOT NULL,
    registered_at      INTEGER NOT NULL,
    last_heartbeat_at  INTEGER NOT NULL
);
CREATE INDEX workers_org ON workers (organization_id, registered_at);
CREATE INDEX workers_heartbeat ON workers (last_heartbeat_at) WHERE state IN ('active', 'quiet');

CREATE TABLE api_keys (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    name             TEXT NOT NULL,
    prefix           TEXT NOT NULL,
    hash             TEXT NOT NULL UNIQUE,
    scopes           INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER,
    last_used_at     INTEGER,
    revoked_at       INTEGER
);
CREATE INDEX api_keys_org ON api_keys (organization_id, created_at);
