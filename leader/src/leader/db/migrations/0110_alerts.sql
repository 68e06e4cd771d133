-- Alerts (leader/alerts): threshold rules, recorded alerts and their deliveries, and counters the worker
-- keeps for /metrics (a web process scrapes them from here, so every process sees the same numbers).

CREATE TABLE alert_rules (
    id           INTEGER PRIMARY KEY,
    experiment   TEXT NOT NULL,
    series       TEXT NOT NULL,     -- a chart descriptor's key (readings.series)
    op           TEXT NOT NULL CHECK (op IN ('>', '<')),
    value        REAL NOT NULL,
    hold_seconds REAL NOT NULL,
    enabled      INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL
);

-- `key` names the condition (unit_offline:unit2, threshold:3:unit1, operation:<id>): at most one open
-- alert per key, so a condition that holds for hours is recorded once.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    summary     TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '{}',   -- JSON object
    fired_at    TEXT NOT NULL,
    resolved_at TEXT
);
CREATE UNIQUE INDEX alerts_open ON alerts (key) WHERE resolved_at IS NULL;
CREATE INDEX alerts_key ON alerts (key);
CREATE INDEX alerts_fired ON alerts (fired_at);

-- One row per (alert event, channel target); retried with backoff until delivered or out of attempts.
CREATE TABLE alert_deliveries (
    id              INTEGER PRIMARY KEY,
    alert_id        INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    event           TEXT NOT NULL,    -- fired | resolved | test
    channel         TEXT NOT NULL,    -- webhook | email
    target          TEXT NOT NULL,    -- the URL, or the recipients
    status          TEXT NOT NULL,    -- pending | sending | delivered | failed
    tries           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,             -- epoch seconds
    created_at      TEXT NOT NULL
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_attempt_at);
CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert_id);
CREATE INDEX alert_deliveries_target ON alert_deliveries (status, target);

CREATE TABLE alert_delivery_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES alert_deliveries(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    ok          INTEGER NOT NULL,
    status_code INTEGER,
    reason      TEXT NOT NULL,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX alert_delivery_attempts_delivery ON alert_delivery_attempts (delivery_id, id);

-- Counters and gauges written by the worker process (ingest, schedules) for /metrics in the web process.
CREATE TABLE metric_values (
    name       TEXT NOT NULL,
    labels     TEXT NOT NULL DEFAULT '',   -- JSON object text, '' for none
    value      REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (name, labels)
) WITHOUT ROWID;
