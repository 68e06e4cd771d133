"""What the experiment page shows, read from the store in a few queries: assigned units with labels and
presence, each job's state per unit (one lowercase word), published settings, the descriptors and recent logs.

Job states other than init/ready/sleeping/lost read `off` (a job that never ran, or stopped).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .. import contrib
from ..db import activity, changes, job_states
from ..db import experiments as exp_db
from ..db import logs as logs_db
from . import latest

SHOWN_STATES = {"init", "ready", "sleeping", "lost"}
LOGS = 30


def state_word(state: str | None) -> str:
    return state if state in SHOWN_STATES else "off"


def setting_text(name: str, value: Any) -> str:
    """A published setting as text: a JSON measurement shows its own key (`{"measured_rpm": 498, ...}`)."""
    if isinstance(value, dict):
        value = value.get(name, next(iter(value.values()), ""))
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def load(db: sqlite3.Connection, name: str, contrib_dir: str) -> dict[str, Any]:
    # One read snapshot, and the change it is current as of: the page's event stream resumes right after it
    # (`?after=`), so a job state or log that arrives before the browser's stream connects is not lost.
    db.execute("BEGIN")
    try:
        return {**_read(db, name, contrib_dir), "since": changes.latest(db)}
    finally:
        db.execute("COMMIT")


def _read(db: sqlite3.Connection, name: str, contrib_dir: str) -> dict[str, Any]:
    exp = exp_db.get(db, name)
    everyone = activity.units(db)
    by_name = {u["name"]: u for u in everyone}
    states = {(s.unit, s.job): s.state for s in job_states.states(db, name)}
    settings = {
        (r.unit, r.job_name): {k: setting_text(k, v) for k, v in r.settings.items()}
        for r in job_states.running_jobs(db, name)
    }
    jobs = contrib.jobs(contrib_dir)
    units = []
    for unit in exp.units:
        row = by_name.get(unit, {"name": unit, "presence": "unknown", "last_seen": None})
        units.append(
            {
                **row,
                "label": exp.labels.get(unit, ""),
                "jobs": {j.job_name: state_word(states.get((unit, j.job_name))) for j in jobs},
                "settings": {j.job_name: settings.get((unit, j.job_name), {}) for j in jobs},
            }
        )
    others = []
    for u in everyone:
        if u["name"] in exp.units or not u["active"]:
            continue
        others.append({"name": u["name"], "experiment": activity.experiment_of(db, u["name"])})
    charts = contrib.charts(contrib_dir)
    return {
        "exp": exp,
        "units": units,
        "others": others,
        "jobs": jobs,
        "automations": {
            j.job_name: contrib.automations(contrib_dir, j.automation_kind) for j in jobs if j.automation_kind
        },
        "latest": latest.load(db, name, exp.units, charts),
        "charts": charts,
        "logs": logs_db.page(db, experiment=name, limit=LOGS).logs,
    }
