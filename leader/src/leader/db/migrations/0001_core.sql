-- Core cluster state. Foreign keys RESTRICT by default: removing a unit or an experiment never takes its
-- history with it by accident; the data-access modules decide explicitly what goes.

CREATE TABLE units (
    name        TEXT PRIMARY KEY,
    address     TEXT NOT NULL,
    port        INTEGER NOT NULL,
    model       TEXT,
    active      INTEGER NOT NULL DEFAULT 1,
    added_at    TEXT NOT NULL,
    removed_at  TEXT            -- removal is soft: assignment history keeps pointing at the unit
);

CREATE TABLE experiments (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);

CREATE TABLE assignments (
    id            INTEGER PRIMARY KEY,
    unit          TEXT NOT NULL REFERENCES units(name),
    experiment    TEXT NOT NULL REFERENCES experiments(name),
    assigned_at   TEXT NOT NULL,
    unassigned_at TEXT
);
-- a unit is in at most one experiment at a time; reassigning closes the old row first
CREATE UNIQUE INDEX assignments_current ON assignments(unit) WHERE unassigned_at IS NULL;
CREATE INDEX assignments_experiment ON assignments(experiment, unassigned_at);

CREATE TABLE operations (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    trigger          TEXT NOT NULL,
    params           TEXT NOT NULL,   -- JSON object
    targets          TEXT NOT NULL,   -- JSON list of unit names
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_by       TEXT
);
CREATE INDEX operations_created ON operations(created_at);
CREATE INDEX operations_status ON operations(status);

-- steps and lines exist only as part of their operation
CREATE TABLE operation_steps (
    operation_id TEXT NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
    unit         TEXT NOT NULL,
    status       TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (operation_id, unit)
);

CREATE TABLE operation_lines (
    operation_id TEXT NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    time         TEXT NOT NULL,
    level        TEXT NOT NULL,
    text         TEXT NOT NULL,
    unit         TEXT,
    PRIMARY KEY (operation_id, seq)
);

CREATE TABLE config_files (
    name       TEXT PRIMARY KEY,
    content    TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE config_file_history (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL REFERENCES config_files(name),
    content  TEXT NOT NULL,
    sha256   TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    saved_by TEXT
);
CREATE INDEX config_file_history_name ON config_file_history(name, id);

-- API tokens are 32 random bytes; only their sha256 is stored (see leader/db/tokens.py)
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,   -- JSON
    updated_at TEXT NOT NULL
);
