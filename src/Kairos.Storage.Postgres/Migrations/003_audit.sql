-- The audit log (PostgreSQL): the same table and meaning as SQLite's 003_audit.sql. Appended and never changed (the
-- trigger refuses updates; deleting an organization removes its rows with the rest of its data).
CREATE TABLE audit_log (
    seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               uuid NOT NULL UNIQUE,
    organization_id  uuid,
    time             bigint NOT NULL,
    actor_type       text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system')),
    actor_id         uuid,
    actor_name       text,
    action           text NOT NULL,
    target_type      text,
    target_id        text,
    ip               text,
    request_id       text,
    status           integer NOT NULL,
    details          jsonb
);
CREATE INDEX audit_log_org ON audit_log (organization_id, seq);
CREATE INDEX audit_log_org_action ON audit_log (organization_id, action, seq);
CREATE INDEX audit_log_org_target ON audit_log (organization_id, target_type, target_id, seq);
CREATE INDEX audit_log_org_actor ON audit_log (organization_id, actor_id, seq);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries cannot be changed';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
