-- An experiment deleted while keeping its data is archived: the row stays (its name reserved, so a new
-- experiment of that name never inherits the old readings and logs), nothing can be assigned to it, and
-- the list shows it as archived. NULL: a live experiment.
ALTER TABLE experiments ADD COLUMN archived_at TEXT;
