-- Workflows (PostgreSQL; same tables and meaning as SQLite's 005_workflows.sql). A workflow's counters, each step's
-- count of unfinished parents and the edges between the steps' jobs are changed in the transaction (for an ack: the
-- statement) of the step job's last transition. Concurrent parents decrement the child's count under its row lock,
-- so exactly one of them sees it reach 0 and starts the child. Jobs carry their workflow (NULL for most jobs: they
-- pay nothing for workflows; adding a nullable column rewrites nothing).
CREATE TABLE workflows (
    id                uuid PRIMARY KEY,
    organization_id   uuid NOT NULL,
    name              text NOT NULL CHECK (length(name) > 0),
    steps_total       integer NOT NULL,
    unfinished_steps  integer NOT NULL,
    failed_steps      integer NOT NULL DEFAULT 0,
    cancelled_steps   integer NOT NULL DEFAULT 0,
    cancel_requested  boolean NOT NULL DEFAULT false,
    schedule_id       uuid,
    created_at        bigint NOT NULL,
    updated_at        bigint NOT NULL,
    finished_at       bigint
);
CREATE INDEX workflows_org ON workflows (organization_id, id);
CREATE INDEX workflows_org_name ON workflows (organization_id, name, id);

CREATE TABLE workflow_steps (
    workflow_id         uuid NOT NULL,
    step_id             text NOT NULL,
    organization_id     uuid NOT NULL,
    position            integer NOT NULL,
    depends_on          text NOT NULL,
    continue_on_failure boolean NOT NULL DEFAULT false,
    unfinished_parents  integer NOT NULL,
    job_id              uuid NOT NULL UNIQUE,
    PRIMARY KEY (workflow_id, step_id)
);

CREATE TABLE workflow_edges (
    parent_job_id  uuid NOT NULL,
    child_job_id   uuid NOT NULL,
    PRIMARY KEY (parent_job_id, child_job_id)
);

ALTER TABLE jobs ADD COLUMN workflow_id uuid;
ALTER TABLE jobs ADD COLUMN workflow_step text;
