-- Per-minute rollups of readings (count, sum, min, max), kept by a trigger: it fires only for readings
-- actually inserted, so a redelivered reading (INSERT OR IGNORE) is never counted twice. A long time
-- series (2 days -> 1,000 points) is then bucketed from 2,880 rollup rows per unit instead of 34,560
-- readings, and without sorting them.
CREATE TABLE readings_minutes (
    series TEXT NOT NULL,
    experiment TEXT NOT NULL,
    unit TEXT NOT NULL,
    minute INTEGER NOT NULL,
    n INTEGER NOT NULL,
    total REAL NOT NULL,
    lo REAL NOT NULL,
    hi REAL NOT NULL,
    PRIMARY KEY (series, experiment, unit, minute)
) WITHOUT ROWID;

CREATE TRIGGER readings_minutes_add AFTER INSERT ON readings
BEGIN
    INSERT INTO readings_minutes (series, experiment, unit, minute, n, total, lo, hi)
    VALUES (NEW.series, NEW.experiment, NEW.unit, CAST(NEW.ts / 60 AS INTEGER), 1, NEW.value, NEW.value, NEW.value)
    ON CONFLICT (series, experiment, unit, minute) DO UPDATE SET
        n = n + 1, total = total + excluded.total, lo = min(lo, excluded.lo), hi = max(hi, excluded.hi);
END;

INSERT INTO readings_minutes (series, experiment, unit, minute, n, total, lo, hi)
SELECT series, experiment, unit, CAST(ts / 60 AS INTEGER), count(*), sum(value), min(value), max(value)
FROM readings GROUP BY series, experiment, unit, CAST(ts / 60 AS INTEGER);
