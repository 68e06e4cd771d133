-- A unit's label within one experiment (Pioreactor's "unit labels"): kept when the unit leaves the
-- experiment (it comes back with its old label) and unique within the experiment, as the UI shows them
-- in place of unit names.
CREATE TABLE unit_labels (
    experiment TEXT NOT NULL REFERENCES experiments(name) ON DELETE CASCADE,
    unit       TEXT NOT NULL,
    label      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (experiment, unit)
) WITHOUT ROWID;
CREATE UNIQUE INDEX unit_labels_label ON unit_labels (experiment, label);
