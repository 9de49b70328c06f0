-- Schedules and their runs. A run is claimed once per (schedule, fire time) by the unique index, in the same
-- transaction that enqueues its job and advances next_fire_at: each fire time fires exactly once.
CREATE TABLE schedules (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    name             TEXT NOT NULL CHECK (length(name) > 0),
    cron             TEXT,
    every_ms         INTEGER,
    timezone         TEXT NOT NULL,
    -- What a run starts: template_kind 'job' (a workflow later) and its template as JSON.
    template_kind    TEXT NOT NULL,
    template         TEXT NOT NULL,
    overlap          TEXT NOT NULL,
    catch_up         TEXT NOT NULL,
    catch_up_limit   INTEGER NOT NULL,
    jitter_ms        INTEGER NOT NULL DEFAULT 0,
    start_at         INTEGER,
    end_at           INTEGER,
    paused           INTEGER NOT NULL DEFAULT 0,
    pause_reason     TEXT,
    next_fire_at     INTEGER,
    last_fire_at     INTEGER,
    last_job_id      TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    CHECK ((cron IS NULL) <> (every_ms IS NULL))
);
CREATE UNIQUE INDEX schedules_name ON schedules (organization_id, name);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE paused = 0 AND next_fire_at IS NOT NULL;

CREATE TABLE schedule_runs (
    seq              INTEGER PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    schedule_id      TEXT NOT NULL,
    fire_time        INTEGER NOT NULL,
    manual           INTEGER NOT NULL DEFAULT 0,
    skipped          INTEGER NOT NULL DEFAULT 0,
    job_id           TEXT,
    created_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX schedule_runs_fire ON schedule_runs (schedule_id, fire_time) WHERE manual = 0;
CREATE INDEX schedule_runs_schedule ON schedule_runs (schedule_id, seq);
