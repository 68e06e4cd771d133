-- What the MQTT ingest stores: logs, job states (+ transitions), job settings, readings, unit presence.

-- Logs: `ts` is the payload's own time in epoch milliseconds (pio's precision), `dedupe` a digest of
-- (topic, payload), so the key (ts, dedupe) is the same for a QoS-1 redelivery, which is stored once.
-- Clustered on time (appends), and every filter index ends in (ts, dedupe): newest-first keyset pages.
-- `level` is the index in topics.LOG_LEVELS (0 debug .. 5 critical). A payload without a timestamp of
-- its own (`own_ts` = 0) gets the arrival time, which differs on redelivery: the digest alone is its key.
CREATE TABLE logs (
    ts INTEGER NOT NULL,
    dedupe INTEGER NOT NULL,
    unit TEXT NOT NULL,
    experiment TEXT NOT NULL,
    job TEXT,
    source TEXT NOT NULL,
    level INTEGER NOT NULL,
    message TEXT NOT NULL,
    own_ts INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (ts, dedupe)
) WITHOUT ROWID;
CREATE UNIQUE INDEX logs_untimed_dedupe ON logs (dedupe) WHERE own_ts = 0;
CREATE INDEX logs_experiment_ts ON logs (experiment, ts);
CREATE INDEX logs_unit_ts ON logs (unit, ts);
CREATE INDEX logs_job_ts ON logs (job, ts);

-- The current state of each job as last published on `.../<job>/$state` (epoch seconds).
CREATE TABLE job_states (
    unit TEXT NOT NULL,
    experiment TEXT NOT NULL,
    job TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (unit, experiment, job)
) WITHOUT ROWID;
CREATE INDEX job_states_experiment ON job_states (experiment, state);

-- Every change of state (a retained state seen again after a reconnect is not a change).
CREATE TABLE job_state_transitions (
    id INTEGER PRIMARY KEY,
    unit TEXT NOT NULL,
    experiment TEXT NOT NULL,
    job TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX job_state_transitions_job ON job_state_transitions (experiment, unit, job, at);

-- Published settings of known jobs; `value` is JSON text.
CREATE TABLE job_settings (
    unit TEXT NOT NULL,
    experiment TEXT NOT NULL,
    job TEXT NOT NULL,
    setting TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (unit, experiment, job, setting)
) WITHOUT ROWID;

-- Readings per series (a chart descriptor's key); clustered on the key a time-series range scan reads.
-- The payload's own timestamp is part of the key, so a redelivered reading is stored once.
CREATE TABLE readings (
    series TEXT NOT NULL,
    experiment TEXT NOT NULL,
    unit TEXT NOT NULL,
    ts REAL NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (series, experiment, unit, ts)
) WITHOUT ROWID;
CREATE INDEX readings_ts ON readings (ts);

-- The agent's presence (online / offline / lost) and when any message from the unit was last seen.
CREATE TABLE presence (
    unit TEXT PRIMARY KEY,
    status TEXT,
    changed_at REAL,
    last_seen REAL
) WITHOUT ROWID;
