-- Identity: users, memberships (a user's role in an organization), invites and console sessions.
-- Emails are stored trimmed and lower case; secrets (invite and session tokens) only as SHA-256 hashes.
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE TABLE memberships (
    organization_id  TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('viewer', 'member', 'admin', 'owner')),
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (organization_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_user ON memberships (user_id, created_at);

CREATE TABLE invites (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    email            TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('viewer', 'member', 'admin', 'owner')),
    token_hash       TEXT NOT NULL UNIQUE,
    invited_by       TEXT,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    accepted_at      INTEGER
);
CREATE INDEX invites_org ON invites (organization_id, created_at);

-- organization_id is the session's current organization (NULL: none).
CREATE TABLE sessions (
    id               TEXT PRIMARY KEY,
    token_hash       TEXT NOT NULL UNIQUE,
    user_id          TEXT NOT NULL,
    organization_id  TEXT,
    csrf_token       TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, expires_at);
