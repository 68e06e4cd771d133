-- Text search over logs (GET /api/logs?q=, the /logs page). This migration only creates empty tables and a
-- high-water mark, so it is instant on a store holding millions of logs; the worker fills the index in the
-- background, in small batches (leader.log_index, leader.db.log_search).
--
-- `logs` has no rowid (WITHOUT ROWID, key (ts, dedupe)) and FTS5 needs one: each indexed log gets
-- id = ts * 2^20 + n (n: 0, 1, ... within its millisecond), kept in `log_search_rows` with its dedupe. So the
-- index's rowid order is time order: a search reads matches newest first (ORDER BY rowid DESC) and stops at
-- a page, whatever the number of matches. The index is contentless (the text lives in `logs` only).
CREATE VIRTUAL TABLE log_search USING fts5(message, content='', tokenize='unicode61 remove_diacritics 2');

CREATE TABLE log_search_rows (
    id INTEGER PRIMARY KEY,   -- ts * 1048576 + n: the index's rowid
    dedupe INTEGER NOT NULL
);

-- Logs written since this migration, to index (a trigger queues them in the writer's own transaction).
CREATE TABLE log_search_pending (
    ts INTEGER NOT NULL,
    dedupe INTEGER NOT NULL,
    PRIMARY KEY (ts, dedupe)
) WITHOUT ROWID;

-- The high-water mark of the backfill: logs older than this key (newest first, so recent logs become
-- searchable first) that existed before this migration are still to index; NULL once done (or none).
CREATE TABLE log_search_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    backfill_ts INTEGER,
    backfill_dedupe INTEGER
);
INSERT INTO log_search_state (id, backfill_ts, backfill_dedupe)
SELECT 1, (SELECT max(ts) + 1 FROM logs), 0;

CREATE TRIGGER log_search_queue AFTER INSERT ON logs
BEGIN
    INSERT OR IGNORE INTO log_search_pending (ts, dedupe) VALUES (NEW.ts, NEW.dedupe);
END;

-- A contentless index forgets a row when told its text: `logs` still has it in OLD.
CREATE TRIGGER log_search_forget AFTER DELETE ON logs
BEGIN
    DELETE FROM log_search_pending WHERE ts = OLD.ts AND dedupe = OLD.dedupe;
    INSERT INTO log_search (log_search, rowid, message)
    SELECT 'delete', id, OLD.message FROM log_search_rows
    WHERE id BETWEEN OLD.ts * 1048576 AND OLD.ts * 1048576 + 1048575 AND dedupe = OLD.dedupe;
    DELETE FROM log_search_rows
    WHERE id BETWEEN OLD.ts * 1048576 AND OLD.ts * 1048576 + 1048575 AND dedupe = OLD.dedupe;
END;
