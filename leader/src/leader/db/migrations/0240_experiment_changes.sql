-- The experiments list follows creation, archive, restore and deletion live (GET /api/events): these
-- changes go under the key `$experiments` (no experiment name holds a `$`, so no experiment's own stream
-- ever reads them, and a purge of an experiment's rows leaves them), `name` = the experiment, `value` = what
-- happened: created | archived | restored | deleted.
CREATE TRIGGER changes_experiment_insert AFTER INSERT ON experiments
BEGIN
    INSERT INTO changes (experiment, kind, name, value) VALUES ('$experiments', 'experiment', NEW.name, 'created');
END;

CREATE TRIGGER changes_experiment_archive AFTER UPDATE OF archived_at ON experiments
WHEN OLD.archived_at IS NOT NEW.archived_at
BEGIN
    INSERT INTO changes (experiment, kind, name, value)
    VALUES ('$experiments', 'experiment', NEW.name,
            CASE WHEN NEW.archived_at IS NULL THEN 'restored' ELSE 'archived' END);
END;

CREATE TRIGGER changes_experiment_delete AFTER DELETE ON experiments
BEGIN
    INSERT INTO changes (experiment, kind, name, value) VALUES ('$experiments', 'experiment', OLD.name, 'deleted');
END;
