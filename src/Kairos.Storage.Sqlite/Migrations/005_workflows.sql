-- Workflows: DAGs of jobs. A workflow's counters, each step's count of unfinished parents and the edges between the
-- steps' jobs are changed in the transaction of the step job's last transition, so that a child starts exactly once,
-- when its last parent is done, and a crash never loses a start. Jobs carry their workflow (NULL for most jobs: they
-- pay nothing for workflows).
CREATE TABLE workflows (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL,
    name              TEXT NOT NULL CHECK (length(name) > 0),
    steps_total       INTEGER NOT NULL,
    -- The state is derived from these (running while unfinished_steps > 0; then failed, cancelled or succeeded).
    unfinished_steps  INTEGER NOT NULL,
    failed_steps      INTEGER NOT NULL DEFAULT 0,
    cancelled_steps   INTEGER NOT NULL DEFAULT 0,
    cancel_requested  INTEGER NOT NULL DEFAULT 0,
    schedule_id       TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    finished_at       INTEGER
);
CREATE INDEX workflows_org ON workflows (organization_id, id);
CREATE INDEX workflows_org_name ON workflows (organization_id, name, id);

CREATE TABLE workflow_steps (
    workflow_id         TEXT NOT NULL,
    step_id             TEXT NOT NULL,
    organization_id     TEXT NOT NULL,
    position            INTEGER NOT NULL,
    depends_on          TEXT NOT NULL,
    continue_on_failure INTEGER NOT NULL DEFAULT 0,
    -- Parents that have not let this step go yet; it starts when this reaches 0.
    unfinished_parents  INTEGER NOT NULL,
    job_id              TEXT NOT NULL UNIQUE,
    PRIMARY KEY (workflow_id, step_id)
) WITHOUT ROWID;

-- parent job -> child job, looked up by the parent when it finishes.
CREATE TABLE workflow_edges (
    parent_job_id  TEXT NOT NULL,
    child_job_id   TEXT NOT NULL,
    PRIMARY KEY (parent_job_id, child_job_id)
) WITHOUT ROWID;

ALTER TABLE jobs ADD COLUMN workflow_id TEXT;
ALTER TABLE jobs ADD COLUMN workflow_step TEXT;
