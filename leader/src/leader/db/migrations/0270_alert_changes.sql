-- Open alerts show on every page (the navigation's count and a notice, static/js/alerts_nav.js), kept live by
-- GET /api/events: an alert opening or resolving is a change under the key `$alerts` (like `$experiments`,
-- 0240: no experiment's stream reads it, no purge deletes it), `name` = the alert's id, `value` = open |
-- resolved. A one-off alert (a failed operation, a test) is recorded resolved at once: one `resolved` change.
-- The count itself needs no new index: `WHERE resolved_at IS NULL` is the partial index alerts_open (0110).
CREATE TRIGGER changes_alert_insert AFTER INSERT ON alerts
BEGIN
    INSERT INTO changes (experiment, kind, name, value)
    VALUES ('$alerts', 'alert', NEW.id, CASE WHEN NEW.resolved_at IS NULL THEN 'open' ELSE 'resolved' END);
END;

CREATE TRIGGER changes_alert_resolve AFTER UPDATE OF resolved_at ON alerts
WHEN OLD.resolved_at IS NOT NEW.resolved_at
BEGIN
    INSERT INTO changes (experiment, kind, name, value)
    VALUES ('$alerts', 'alert', NEW.id, CASE WHEN NEW.resolved_at IS NULL THEN 'open' ELSE 'resolved' END);
END;
