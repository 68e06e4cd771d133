-- A config file version saved by a revert names the version it restored (NULL for an edit), so the history
-- reads "reverted to #12" instead of a second copy nobody can explain.
ALTER TABLE config_file_history ADD COLUMN reverted_from INTEGER;
