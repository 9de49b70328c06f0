-- Alerts and webhooks (PostgreSQL; same tables and meaning as SQLite's 008_alerts_webhooks.sql). Channels and rules
-- (named per organization, settings as JSON with secrets already encrypted by the server), incidents with their
-- history, maintenance windows; webhook endpoints, deliveries and every attempt; the data-protection key ring.
CREATE TABLE alert_channels (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL,
    name             text NOT NULL CHECK (length(name) > 0),
    kind             text NOT NULL,
    config           text NOT NULL,
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL
);
CREATE UNIQUE INDEX alert_channels_name ON alert_channels (organization_id, name);

CREATE TABLE alert_rules (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL,
    name             text NOT NULL CHECK (length(name) > 0),
    kind             text NOT NULL,
    definition       text NOT NULL,
    enabled          boolean NOT NULL DEFAULT true,
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL
);
CREATE UNIQUE INDEX alert_rules_name ON alert_rules (organization_id, name);
CREATE INDEX alert_rules_enabled ON alert_rules (organization_id) WHERE enabled;

-- At most one open incident per rule and alert key (the unique index): firing again updates it.
CREATE TABLE alert_incidents (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL,
    rule_id          uuid NOT NULL,
    rule_name        text NOT NULL,
    alert_key        text NOT NULL,
    title            text NOT NULL,
    summary          text,
    opened_at        bigint NOT NULL,
    last_fired_at    bigint NOT NULL,
    resolved_at      bigint,
    last_notified_at bigint,
    fire_count       bigint NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX alert_incidents_open ON alert_incidents (rule_id, alert_key) WHERE resolved_at IS NULL;
CREATE INDEX alert_incidents_org ON alert_incidents (organization_id, id);
CREATE INDEX alert_incidents_key ON alert_incidents (rule_id, alert_key, last_notified_at);

CREATE TABLE alert_incident_events (
    seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  uuid NOT NULL,
    incident_id      uuid NOT NULL,
    at               bigint NOT NULL,
    kind             text NOT NULL,
    message          text
);
CREATE INDEX alert_incident_events_incident ON alert_incident_events (incident_id, seq);

CREATE TABLE maintenance_windows (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL,
    rule             text,
    starts_at        bigint NOT NULL,
    ends_at          bigint NOT NULL,
    reason           text,
    created_at       bigint NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX maintenance_windows_org ON maintenance_windows (organization_id, ends_at);

CREATE TABLE webhook_endpoints (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL,
    url              text NOT NULL,
    description      text,
    event_types      text NOT NULL,
    secret           text NOT NULL,
    enabled          boolean NOT NULL DEFAULT true,
    disabled_reason  text,
    failing_since    bigint,
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (organization_id, id);

CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL,
    endpoint_id      uuid NOT NULL,
    event_id         text NOT NULL,
    event_type       text NOT NULL,
    body             text NOT NULL,
    state            text NOT NULL,
    attempt_count    integer NOT NULL DEFAULT 0,
    job_id           uuid,
    last_status      integer,
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

CREATE TABLE webhook_attempts (
    seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  uuid NOT NULL,
    delivery_id      uuid NOT NULL,
    number           integer NOT NULL,
    at               bigint NOT NULL,
    status           integer,
    duration_ms      bigint NOT NULL,
    response         text,
    error            text,
    request_headers  text NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, seq);

CREATE TABLE data_protection_keys (
    name             text PRIMARY KEY,
    xml              text NOT NULL,
    created_at       bigint NOT NULL
);
