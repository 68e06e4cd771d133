-- Pump runs as Pioreactor publishes them (`pioreactor/<unit>/<exp>/dosing_events`): the charts mark them
-- and exports may read them. Keyed by time so a QoS-1 redelivery is stored once (INSERT OR IGNORE); the
-- experiment leads the key because every read is one experiment's time range.
CREATE TABLE dosing_events (
    experiment    TEXT NOT NULL,
    ts            REAL NOT NULL,
    unit          TEXT NOT NULL,
    event         TEXT NOT NULL,
    volume_change REAL NOT NULL,
    source        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (experiment, ts, unit, event)
) WITHOUT ROWID;

-- live: the experiment's event stream sends each stored pump run (`dosing` event) so open charts mark it
CREATE TRIGGER changes_dosing AFTER INSERT ON dosing_events
BEGIN
    INSERT INTO changes (experiment, kind, unit, name, value, t)
    VALUES (NEW.experiment, 'dosing', NEW.unit, NEW.event, NEW.volume_change, NEW.ts);
END;

-- job starts and stops over a time range of one experiment (the existing index leads with the unit)
CREATE INDEX job_state_transitions_at ON job_state_transitions (experiment, at);
