-- Live updates (GET /api/experiments/<exp>/events): a change log per experiment, appended by triggers in
-- the transaction of the change itself. SQLite has one writer at a time, so `seq` grows in commit order
-- and a reader never sees seq N+1 before N: one integer is a complete cursor (the SSE `id`), and a
-- stream polls `WHERE experiment = ? AND seq > ?` on the index below. Rows carry keys and small values
-- only; a log's text and an operation's answer are read from their own tables when sent. Old rows are
-- pruned by count (leader.db.changes.prune): `seq` is a rowid and the newest row always stays, so
-- numbers are never reused.
CREATE TABLE changes (
    seq        INTEGER PRIMARY KEY,
    experiment TEXT NOT NULL,
    kind       TEXT NOT NULL,   -- job_state | setting | reading | log | operation
    unit       TEXT,
    job        TEXT,
    name       TEXT,            -- setting name · reading series · operation id
    value,                      -- state · setting JSON text (NULL: cleared) · reading value · log dedupe
    t          REAL             -- reading ts (epoch s) · log ts (epoch ms)
);
CREATE INDEX changes_experiment ON changes (experiment, seq);

CREATE TRIGGER changes_job_state_insert AFTER INSERT ON job_states
BEGIN
    INSERT INTO changes (experiment, kind, unit, job, value)
    VALUES (NEW.experiment, 'job_state', NEW.unit, NEW.job, NEW.state);
END;

CREATE TRIGGER changes_job_state_update AFTER UPDATE OF state ON job_states
WHEN OLD.state IS NOT NEW.state
BEGIN
    INSERT INTO changes (experiment, kind, unit, job, value)
    VALUES (NEW.experiment, 'job_state', NEW.unit, NEW.job, NEW.state);
END;

CREATE TRIGGER changes_setting_insert AFTER INSERT ON job_settings
BEGIN
    INSERT INTO changes (experiment, kind, unit, job, name, value)
    VALUES (NEW.experiment, 'setting', NEW.unit, NEW.job, NEW.setting, NEW.value);
END;

CREATE TRIGGER changes_setting_update AFTER UPDATE OF value ON job_settings
WHEN OLD.value IS NOT NEW.value
BEGIN
    INSERT INTO changes (experiment, kind, unit, job, name, value)
    VALUES (NEW.experiment, 'setting', NEW.unit, NEW.job, NEW.setting, NEW.value);
END;

CREATE TRIGGER changes_setting_delete AFTER DELETE ON job_settings
BEGIN
    INSERT INTO changes (experiment, kind, unit, job, name, value)
    VALUES (OLD.experiment, 'setting', OLD.unit, OLD.job, OLD.setting, NULL);
END;

-- only readings actually stored: a redelivery (INSERT OR IGNORE) is no change
CREATE TRIGGER changes_reading AFTER INSERT ON readings
BEGIN
    INSERT INTO changes (experiment, kind, unit, name, value, t)
    VALUES (NEW.experiment, 'reading', NEW.unit, NEW.series, NEW.value, NEW.ts);
END;

-- `$experiment` (Pioreactor's "any experiment") is no experiment a page follows
CREATE TRIGGER changes_log AFTER INSERT ON logs
WHEN substr(NEW.experiment, 1, 1) != '$'
BEGIN
    INSERT INTO changes (experiment, kind, unit, job, value, t)
    VALUES (NEW.experiment, 'log', NEW.unit, NEW.job, NEW.dedupe, NEW.ts);
END;

-- an operation belongs to the experiment in its params (`experiment`, or each of `experiments`)
CREATE TRIGGER changes_operation_insert AFTER INSERT ON operations
BEGIN
    INSERT INTO changes (experiment, kind, name)
    SELECT value, 'operation', NEW.id FROM json_each(NEW.params, '$.experiment') WHERE type = 'text'
    UNION ALL
    SELECT value, 'operation', NEW.id FROM json_each(NEW.params, '$.experiments') WHERE type = 'text';
END;

CREATE TRIGGER changes_operation_update AFTER UPDATE ON operations
BEGIN
    INSERT INTO changes (experiment, kind, name)
    SELECT value, 'operation', NEW.id FROM json_each(NEW.params, '$.experiment') WHERE type = 'text'
    UNION ALL
    SELECT value, 'operation', NEW.id FROM json_each(NEW.params, '$.experiments') WHERE type = 'text';
END;

CREATE TRIGGER changes_operation_step AFTER UPDATE ON operation_steps
BEGIN
    INSERT INTO changes (experiment, kind, name)
    SELECT j.value, 'operation', o.id FROM operations o, json_each(o.params, '$.experiment') j
    WHERE o.id = NEW.operation_id AND j.type = 'text'
    UNION ALL
    SELECT j.value, 'operation', o.id FROM operations o, json_each(o.params, '$.experiments') j
    WHERE o.id = NEW.operation_id AND j.type = 'text';
END;
