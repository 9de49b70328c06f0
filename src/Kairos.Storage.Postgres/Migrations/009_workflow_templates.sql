-- Workflow templates (PostgreSQL; same tables and meaning as SQLite's 009_workflow_templates.sql): named, stored
-- workflows per organization. A template's steps are one JSON document; every run copies them into a new workflow
-- instance, so a template change never reaches instances already made. managed_by marks templates that something
-- else owns (manifests: 'manifest'); NULL for templates made by hand.
CREATE TABLE workflow_templates (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL,
    name             text NOT NULL CHECK (length(name) > 0),
    steps            text NOT NULL,
    managed_by       text,
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL
);
CREATE UNIQUE INDEX workflow_templates_name ON workflow_templates (organization_id, name);

-- A schedule may start a workflow template (template_kind 'workflow', template {"workflow": NAME}): its latest
-- instance is the previous run of the overlap policy, and each run records the instance it created.
ALTER TABLE schedules ADD COLUMN last_workflow_id uuid;
ALTER TABLE schedule_runs ADD COLUMN workflow_id uuid;
