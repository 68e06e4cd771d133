-- What the leader last wrote to each unit, per config file (its name on the leader: config.ini or
-- config_<unit>.ini): a row per (unit, file), replaced by every sync step that succeeds. The config page
-- compares it with the file's current sha256 to say "saved, not synced" without asking any unit.
CREATE TABLE config_synced (
    unit         TEXT NOT NULL,
    name         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    synced_at    TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    PRIMARY KEY (unit, name)
);
