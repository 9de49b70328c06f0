-- Check-in monitors, their runs, and the organizations' ping keys of slug URLs. Ping keys are kept as a SHA-256 hash
-- (looked up by pings) and sealed by the server (shown to members); never in clear.
CREATE TABLE monitors (
    id                   TEXT PRIMARY KEY,
    organization_id      TEXT NOT NULL,
    name                 TEXT NOT NULL CHECK (length(name) > 0),
    slug                 TEXT NOT NULL CHECK (length(slug) > 0),
    period_seconds       INTEGER,
    cron                 TEXT,
    timezone             TEXT NOT NULL,
    grace_seconds        INTEGER NOT NULL,
    max_runtime_seconds  INTEGER,
    start_grace_seconds  INTEGER,
    failure_threshold    INTEGER NOT NULL DEFAULT 1,
    tags                 TEXT NOT NULL DEFAULT '[]',
    ping_key_hash        TEXT NOT NULL,
    ping_key_sealed      TEXT NOT NULL,
    state                TEXT NOT NULL,
    reason               TEXT,
    state_changed_at     INTEGER,
    last_ping_at         INTEGER,
    last_finish_at       INTEGER,
    last_start_at        INTEGER,
    due_at               INTEGER,
    start_due_at         INTEGER,
    running_since        INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    pause_reason         TEXT,
    -- The earliest moment the watch has something to decide; null when only a ping can change the state.
    next_check_at        INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    CHECK ((period_seconds IS NULL) <> (cron IS NULL))
);
CREATE UNIQUE INDEX monitors_name ON monitors (organization_id, name);
CREATE UNIQUE INDEX monitors_slug ON monitors (organization_id, slug);
CREATE UNIQUE INDEX monitors_ping_key ON monitors (ping_key_hash);
CREATE INDEX monitors_due ON monitors (next_check_at) WHERE next_check_at IS NOT NULL;

CREATE TABLE monitor_runs (
    seq              INTEGER PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    monitor_id       TEXT NOT NULL,
    rid              TEXT,
    -- running (a start without its finish yet), success, fail, timeout
    outcome          TEXT NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    exit_code        INTEGER,
    log              TEXT,
    log_truncated    INTEGER NOT NULL DEFAULT 0,
    source_ip        TEXT,
    user_agent       TEXT,
    created_at       INTEGER NOT NULL
);
CREATE INDEX monitor_runs_monitor ON monitor_runs (monitor_id, seq);
CREATE INDEX monitor_runs_open ON monitor_runs (monitor_id, started_at) WHERE outcome = 'running';

CREATE TABLE monitor_ping_keys (
    organization_id  TEXT PRIMARY KEY,
    key_hash         TEXT NOT NULL UNIQUE,
    key_sealed       TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);
