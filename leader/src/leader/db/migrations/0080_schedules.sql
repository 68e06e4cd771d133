-- Schedules (the source of truth; the leader worker's APScheduler follows them) and their firings.

-- AUTOINCREMENT: an id is never reused, so a deleted schedule's firings and `schedule:<id>` operations
-- never get mistaken for a new schedule's.
CREATE TABLE schedules (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    trigger      TEXT NOT NULL,   -- JSON, cluster_schema.schedules.Trigger
    action       TEXT NOT NULL,   -- JSON, cluster_schema.schedules.Action
    enabled      INTEGER NOT NULL DEFAULT 1,
    -- firings are due from here on: creation, or the last change of trigger or `enabled` (no catch-up of
    -- times that passed while a schedule was off or had another trigger); an interval's grid starts here
    active_since TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT
);

-- One row per firing. The primary key is what makes a firing happen exactly once: a restarted, frozen or
-- duplicated scheduler that reaches the same due time again fails to insert and creates no operation.
CREATE TABLE schedule_firings (
    schedule_id  INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
    due_at       TEXT NOT NULL,   -- ISO 8601 UTC with milliseconds (run-now: the time it was asked)
    fired_at     TEXT NOT NULL,
    manual       INTEGER NOT NULL DEFAULT 0,   -- POST /api/schedules/<id>/run
    operation_id TEXT REFERENCES operations(id) ON DELETE SET NULL,
    PRIMARY KEY (schedule_id, due_at)
);
CREATE INDEX schedule_firings_fired ON schedule_firings(schedule_id, fired_at);

-- Bumped by every change to `schedules`, whoever makes it: the worker polls this one row (cheap) to know
-- when to reload.
CREATE TABLE schedules_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO schedules_version (id, version) VALUES (1, 0);

CREATE TRIGGER schedules_changed_insert AFTER INSERT ON schedules
BEGIN UPDATE schedules_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER schedules_changed_update AFTER UPDATE ON schedules
BEGIN UPDATE schedules_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER schedules_changed_delete AFTER DELETE ON schedules
BEGIN UPDATE schedules_version SET version = version + 1 WHERE id = 1; END;
