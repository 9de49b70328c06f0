-- The audit log: one row per management action and sign-in, appended and never changed (the trigger refuses
-- updates; deleting an organization removes its rows with the rest of its data). seq is the order of appending (the
-- order of lists and their cursor); id is the entry's UUIDv7. organization_id is NULL for server-level entries (a
-- failed sign-in with an unknown email). details is a small JSON object, never a secret.
CREATE TABLE audit_log (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    organization_id  TEXT,
    time             INTEGER NOT NULL,
    actor_type       TEXT NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system')),
    actor_id         TEXT,
    actor_name       TEXT,
    action           TEXT NOT NULL,
    target_type      TEXT,
    target_id        TEXT,
    ip               TEXT,
    request_id       TEXT,
    status           INTEGER NOT NULL,
    details          TEXT
);
CREATE INDEX audit_log_org ON audit_log (organization_id, seq);
CREATE INDEX audit_log_org_action ON audit_log (organization_id, action, seq);
CREATE INDEX audit_log_org_target ON audit_log (organization_id, target_type, target_id, seq);
CREATE INDEX audit_log_org_actor ON audit_log (organization_id, actor_id, seq);

CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit entries cannot be changed');
END;
