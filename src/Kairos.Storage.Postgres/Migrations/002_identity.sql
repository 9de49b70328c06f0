-- Identity (PostgreSQL): the same tables and meaning as SQLite's 002_identity.sql.
-- Emails are stored trimmed and lower case; secrets (invite and session tokens) only as SHA-256 hashes.
CREATE TABLE users (
    id             uuid PRIMARY KEY,
    email          text NOT NULL UNIQUE,
    name           text NOT NULL,
    password_hash  text NOT NULL,
    created_at     bigint NOT NULL
);

CREATE TABLE memberships (
    organization_id  uuid NOT NULL,
    user_id          uuid NOT NULL,
    role             text NOT NULL CHECK (role IN ('viewer', 'member', 'admin', 'owner')),
    created_at       bigint NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, created_at);

CREATE TABLE invites (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL,
    email            text NOT NULL,
    role             text NOT NULL CHECK (role IN ('viewer', 'member', 'admin', 'owner')),
    token_hash       text NOT NULL UNIQUE,
    invited_by       uuid,
    created_at       bigint NOT NULL,
    expires_at       bigint NOT NULL,
    accepted_at      bigint
);
CREATE INDEX invites_org ON invites (organization_id, created_at);

-- organization_id is the session's current organization (NULL: none).
CREATE TABLE sessions (
    id               uuid PRIMARY KEY,
    token_hash       text NOT NULL UNIQUE,
    user_id          uuid NOT NULL,
    organization_id  uuid,
    csrf_token       text NOT NULL,
    created_at       bigint NOT NULL,
    expires_at       bigint NOT NULL,
    last_seen_at     bigint NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, expires_at);
