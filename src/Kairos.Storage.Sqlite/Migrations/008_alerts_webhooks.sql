-- Alerts: channels and rules (named per organization, settings as JSON with secrets already encrypted by the server),
-- incidents with their history, maintenance windows. Webhooks: endpoints, deliveries and every attempt (the delivery
-- log). The data-protection key ring the server encrypts those secrets with (server-level).
CREATE TABLE alert_channels (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    name             TEXT NOT NULL CHECK (length(name) > 0),
    kind             TEXT NOT NULL,
    config           TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX alert_channels_name ON alert_channels (organization_id, name);

CREATE TABLE alert_rules (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    name             TEXT NOT NULL CHECK (length(name) > 0),
    kind             TEXT NOT NULL,
    definition       TEXT NOT NULL,
    enabled          INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX alert_rules_name ON alert_rules (organization_id, name);
CREATE INDEX alert_rules_enabled ON alert_rules (organization_id) WHERE enabled = 1;

-- At most one open incident per rule and alert key (the unique index): firing again updates it.
CREATE TABLE alert_incidents (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    rule_id          TEXT NOT NULL,
    rule_name        TEXT NOT NULL,
    alert_key        TEXT NOT NULL,
    title            TEXT NOT NULL,
    summary          TEXT,
    opened_at        INTEGER NOT NULL,
    last_fired_at    INTEGER NOT NULL,
    resolved_at      INTEGER,
    last_notified_at INTEGER,
    fire_count       INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX alert_incidents_open ON alert_incidents (rule_id, alert_key) WHERE resolved_at IS NULL;
CREATE INDEX alert_incidents_org ON alert_incidents (organization_id, id);
CREATE INDEX alert_incidents_key ON alert_incidents (rule_id, alert_key, last_notified_at);

CREATE TABLE alert_incident_events (
    seq              INTEGER PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    incident_id      TEXT NOT NULL,
    at               INTEGER NOT NULL,
    kind             TEXT NOT NULL,
    message          TEXT
);
CREATE INDEX alert_incident_events_incident ON alert_incident_events (incident_id, seq);

CREATE TABLE maintenance_windows (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    rule             TEXT,
    starts_at        INTEGER NOT NULL,
    ends_at          INTEGER NOT NULL,
    reason           TEXT,
    created_at       INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX maintenance_windows_org ON maintenance_windows (organization_id, ends_at);

CREATE TABLE webhook_endpoints (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    url              TEXT NOT NULL,
    description      TEXT,
    event_types      TEXT NOT NULL,
    secret           TEXT NOT NULL,
    enabled          INTEGER NOT NULL DEFAULT 1,
    disabled_reason  TEXT,
    failing_since    INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (organization_id, id);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    body             TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempt_count    INTEGER NOT NULL DEFAULT 0,
    job_id           TEXT,
    last_status      INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

CREATE TABLE webhook_attempts (
    seq              INTEGER PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    delivery_id      TEXT NOT NULL,
    number           INTEGER NOT NULL,
    at               INTEGER NOT NULL,
    status           INTEGER,
    duration_ms      INTEGER NOT NULL,
    response         TEXT,
    error            TEXT,
    request_headers  TEXT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, seq);

CREATE TABLE data_protection_keys (
    name             TEXT PRIMARY KEY,
    xml              TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);
