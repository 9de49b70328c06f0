-- Schedules and their runs (PostgreSQL; same tables and meaning as SQLite's 004_schedules.sql). A run is claimed
-- once per (schedule, fire time) by the unique index, in the same transaction that enqueues its job and advances
-- next_fire_at (the schedule row locked FOR UPDATE): each fire time fires exactly once, however many nodes try.
CREATE TABLE schedules (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL,
    name             text NOT NULL CHECK (length(name) > 0),
    cron             text,
    every_ms         bigint,
    timezone         text NOT NULL,
    -- What a run starts: template_kind 'job' (a workflow later) and its template as JSON.
    template_kind    text NOT NULL,
    template         text NOT NULL,
    overlap          text NOT NULL,
    catch_up         text NOT NULL,
    catch_up_limit   integer NOT NULL,
    jitter_ms        integer NOT NULL DEFAULT 0,
    start_at         bigint,
    end_at           bigint,
    paused           boolean NOT NULL DEFAULT false,
    pause_reason     text,
    next_fire_at     bigint,
    last_fire_at     bigint,
    last_job_id      uuid,
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL,
    CHECK ((cron IS NULL) <> (every_ms IS NULL))
);
CREATE UNIQUE INDEX schedules_name ON schedules (organization_id, name);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE NOT paused AND next_fire_at IS NOT NULL;

CREATE TABLE schedule_runs (
    seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  uuid NOT NULL,
    schedule_id      uuid NOT NULL,
    fire_time        bigint NOT NULL,
    manual           boolean NOT NULL DEFAULT false,
    skipped          boolean NOT NULL DEFAULT false,
    job_id           uuid,
    created_at       bigint NOT NULL
);
CREATE UNIQUE INDEX schedule_runs_fire ON schedule_runs (schedule_id, fire_time) WHERE NOT manual;
CREATE INDEX schedule_runs_schedule ON schedule_runs (schedule_id, seq);
