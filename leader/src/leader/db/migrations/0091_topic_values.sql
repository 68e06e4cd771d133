-- The last value of every `pioreactor/<unit>/<exp>/<job>/<setting>` topic the ingest has seen, descriptor
-- or not (`job_settings` keeps only the descriptors' settings; it feeds running jobs, exports and events).
-- Experiment profiles' lookups (`unit1:od_reading:od1.od`) read it. A JSON value; an empty payload clears.
CREATE TABLE topic_values (
    unit       TEXT NOT NULL,
    experiment TEXT NOT NULL,
    job        TEXT NOT NULL,
    setting    TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (unit, experiment, job, setting)
) WITHOUT ROWID;
