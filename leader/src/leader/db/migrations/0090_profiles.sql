-- Experiment profiles (the YAML text as saved) and the plan of each `profile.run` operation.
CREATE TABLE profiles (
    name        TEXT PRIMARY KEY,
    title       TEXT NOT NULL,      -- experiment_profile_name
    description TEXT,
    yaml        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- One row per action per unit (and per repeat iteration / per `when` met), claimed pending -> running|done
-- in a transaction before it acts, so a worker restart never fires a row twice.
CREATE TABLE profile_plan (
    run_id       TEXT NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    at           REAL NOT NULL,          -- epoch seconds
    priority     INTEGER NOT NULL,       -- same-time order: start, stop, pause, resume, update, when, repeat, log
    unit         TEXT NOT NULL,
    block        TEXT NOT NULL,          -- '' for common, else the unit of a `pioreactors` block
    job          TEXT NOT NULL,
    action       TEXT NOT NULL,
    idx          TEXT NOT NULL,          -- JSON list: the action's index, then nested indexes
    iteration    INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL DEFAULT 'pending',
    operation_id TEXT,                   -- the ordinary operation this row submitted
    detail       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX profile_plan_open ON profile_plan (status, at) WHERE status IN ('pending', 'running');
