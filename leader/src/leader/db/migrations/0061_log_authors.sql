-- Who wrote a log by hand (a manual note, `source` = 'user'): the request's principal. NULL for every
-- log a unit published.
ALTER TABLE logs ADD COLUMN author TEXT;
