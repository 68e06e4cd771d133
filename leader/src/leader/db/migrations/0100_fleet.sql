-- Fleet: each unit's latest versions and health, from its retained `$agent/status` heartbeat (MQTT
-- ingest) or, for units silent on MQTT, from the worker's slow `/unit_api/versions` check.
-- Times are epoch seconds on the leader's clock. `clock_offset` = the agent's clock minus the leader's at
-- arrival (live heartbeats only; a retained one is old news), `clock_at` when it was measured.
CREATE TABLE unit_status (
    unit TEXT PRIMARY KEY,
    agent TEXT,
    pio TEXT,
    python TEXT,
    schema INTEGER,
    versions_at REAL,
    versions_source TEXT,
    heartbeat_at REAL,
    interval REAL,
    disk_free INTEGER,
    disk_total INTEGER,
    memory_free INTEGER,
    memory_total INTEGER,
    running_jobs INTEGER,
    worker_alive INTEGER,
    clock_offset REAL,
    clock_at REAL
) WITHOUT ROWID;
