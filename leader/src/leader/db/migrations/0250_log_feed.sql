-- The live tail of logs (GET /api/logs/events, the /logs page): `logs` is keyed by the payload's own time
-- (ts, dedupe), so neither a late log (a unit's queue sent after a reconnect, a unit's clock behind) nor a
-- second log within one millisecond comes after the newest key seen: that key is no cursor for "what is
-- new". Each stored log gets a number here in the writer's own transaction; SQLite has one writer at a
-- time, so `seq` grows in commit order and a reader never sees N+1 before N: one integer is a complete
-- cursor (the SSE `id`). Rows are keys only; the stream joins `logs` for the text and the filters, so a
-- log deleted since is simply not sent. Pruned by count (leader.db.log_feed.prune, the newest row always
-- stays, so numbers are never reused). Logs stored before this migration have no number: the stream only
-- ever sends logs stored after it started (or after the id it resumes from), so none is needed.
CREATE TABLE log_feed (
    seq INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    dedupe INTEGER NOT NULL
);

-- only logs actually stored: a redelivery (INSERT OR IGNORE) is no new line
CREATE TRIGGER log_feed_insert AFTER INSERT ON logs
BEGIN
    INSERT INTO log_feed (ts, dedupe) VALUES (NEW.ts, NEW.dedupe);
END;
