-- Check-in monitors, their runs, and the organizations' ping keys of slug URLs (PostgreSQL; same tables and meaning as
-- SQLite's 006_monitors.sql). Ping keys are kept as a SHA-256 hash (looked up by pings) and sealed by the server.
CREATE TABLE monitors (
    id                   uuid PRIMARY KEY,
    organization_id      uuid NOT NULL,
    name                 text NOT NULL CHECK (length(name) > 0),
    slug                 text NOT NULL CHECK (length(slug) > 0),
    period_seconds       bigint,
    cron                 text,
    timezone             text NOT NULL,
    grace_seconds        integer NOT NULL,
    max_runtime_seconds  integer,
    start_grace_seconds  integer,
    failure_threshold    integer NOT NULL DEFAULT 1,
    tags                 text NOT NULL DEFAULT '[]',
    ping_key_hash        text NOT NULL,
    ping_key_sealed      text NOT NULL,
    state                text NOT NULL,
    reason               text,
    state_changed_at     bigint,
    last_ping_at         bigint,
    last_finish_at       bigint,
    last_start_at        bigint,
    due_at               bigint,
    start_due_at         bigint,
    running_since        bigint,
    consecutive_failures integer NOT NULL DEFAULT 0,
    pause_reason         text,
    -- The earliest moment the watch has something to decide; null when only a ping can change the state.
    next_check_at        bigint,
    created_at           bigint NOT NULL,
    updated_at           bigint NOT NULL,
    CHECK ((period_seconds IS NULL) <> (cron IS NULL))
);
CREATE UNIQUE INDEX monitors_name ON monitors (organization_id, name);
CREATE UNIQUE INDEX monitors_slug ON monitors (organization_id, slug);
CREATE UNIQUE INDEX monitors_ping_key ON monitors (ping_key_hash);
CREATE INDEX monitors_due ON monitors (next_check_at) WHERE next_check_at IS NOT NULL;

CREATE TABLE monitor_runs (
    seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  uuid NOT NULL,
    monitor_id       uuid NOT NULL,
    rid              text,
    -- running (a start without its finish yet), success, fail, timeout
    outcome          text NOT NULL,
    started_at       bigint,
    finished_at      bigint,
    exit_code        integer,
    log              text,
    log_truncated    boolean NOT NULL DEFAULT false,
    source_ip        text,
    user_agent       text,
    created_at       bigint NOT NULL
);
CREATE INDEX monitor_runs_monitor ON monitor_runs (monitor_id, seq);
CREATE INDEX monitor_runs_open ON monitor_runs (monitor_id, started_at) WHERE outcome = 'running';

CREATE TABLE monitor_ping_keys (
    organization_id  uuid PRIMARY KEY,
    key_hash         text NOT NULL UNIQUE,
    key_sealed       text NOT NULL,
    created_at       bigint NOT NULL
);
