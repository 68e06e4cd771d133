-- An experiment being deleted with its data is first archived (so nothing joins it while its rows go in
-- batches); `purging_at` tells that one from an archived experiment kept on purpose, which may be restored.
-- Set when the purge starts, gone with the row when it ends; still set after an interrupted purge (delete
-- it again to finish). NULL: no purge started.
ALTER TABLE experiments ADD COLUMN purging_at TEXT;
