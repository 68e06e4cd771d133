-- People (see leader/db/users.py, sessions.py, audit.py, login_limits.py): users with roles, server-side
-- browser sessions (revocable, unlike a signed cookie), tokens with roles and owners, failed sign-ins
-- counted in the store so every web worker sees them, the audit trail, and who requested each operation.

CREATE TABLE users (
    name                TEXT PRIMARY KEY,
    password_hash       TEXT NOT NULL,          -- werkzeug scrypt; never the password
    role                TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at          TEXT NOT NULL,
    last_login_at       TEXT,
    password_changed_at TEXT NOT NULL
);

-- the cookie holds a random id; the store keeps its sha256, so a leaked database opens no session
CREATE TABLE sessions (
    id_sha256           TEXT PRIMARY KEY,
    user                TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    created_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    last_seen_at        TEXT NOT NULL,
    password_checked_at TEXT NOT NULL,          -- sign-in or re-authentication (dangerous actions)
    address             TEXT
);
CREATE INDEX sessions_user ON sessions(user);

-- existing tokens were full-power CLI tokens: they stay admin, owned by nobody (the CLI)
ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE api_tokens ADD COLUMN owner TEXT;
CREATE INDEX api_tokens_owner ON api_tokens(owner);

-- one row per failed (or in-flight) password check; keys `user:<name>` and `addr:<address>`
CREATE TABLE login_failures (
    id  INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at  REAL NOT NULL                           -- epoch seconds
);
CREATE INDEX login_failures_key ON login_failures(key, at);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT,
    address TEXT,
    detail  TEXT NOT NULL DEFAULT '{}'          -- JSON object
);
CREATE INDEX audit_at ON audit(at);

ALTER TABLE operations ADD COLUMN requested_by TEXT NOT NULL DEFAULT 'unknown';
UPDATE operations SET requested_by = created_by WHERE created_by IS NOT NULL;
