"""Experiment profiles, the issue's bad input through the API (400 `invalid_profile`, nothing saved) and the
driver's restart rule: a row claimed by a worker that died is failed, never repeated; past-due rows fire once;
a past-due repeat keeps its iteration count without replaying missed iterations in a burst; two drivers (an
old worker and its replacement) never fire a row twice. Dry runs, so no unit is needed."""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
import pytest
from flask import Flask
from flask.testing import FlaskClient

from cluster_schema.additions import ProfileRunAnswer
from cluster_schema.leader import OperationAnswer
from leader.db import connect
from leader.db import experiments as exp_db
from leader.db import operations as ops_db
from leader.db import profiles as store
from leader.db import units as units_db
from leader.profiles import plan as planner
from leader.profiles.driver import Driver
from leader.profiles.validate import load
from tests.leader.conftest import api_client, make_app
from tests.leader.test_profiles import CORPUS, HEAD

# the "Bad input" list, each with the diagnostic it must carry
BAD_INPUT = [
    "bad time literal",
    "unknown key",
    "repeat in repeat",
    "expression syntax error",
    "quoted string in an expression",
]


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    flask_app = make_app(tmp_path)
    db = connect(flask_app.config["DATABASE"])
    try:
        for unit in ("u1", "u2"):
            units_db.add(db, unit, "127.0.0.1", 1, None)  # never reached: dry runs only
        exp_db.create(db, "exp")
        exp_db.assign(db, "exp", ["u1", "u2"])
    finally:
        db.close()
    return flask_app


@pytest.mark.parametrize(("name", "text", "expected"), [c for c in CORPUS if c[0] in BAD_INPUT])
def test_bad_input_is_refused_and_nothing_is_saved(
    app: Flask, name: str, text: str, expected: tuple[str, str, str]
) -> None:
    client = api_client(app)
    r = client.put("/api/profiles/bad", json={"yaml": text})
    assert r.status_code == 400, r.json
    assert r.json["error"] == "invalid_profile"
    found = [(d["severity"], d["code"], d["path"]) for d in r.json["diagnostics"]]
    assert expected in found, found
    assert client.get("/api/profiles/bad").status_code == 404
    assert client.get("/api/profiles").json == []
    r = client.post("/api/profiles/validate", json={"yaml": text})  # the editor's check says the same
    assert r.status_code == 200 and expected in [
        (d["severity"], d["code"], d["path"]) for d in r.json["diagnostics"]
    ]


def test_a_unit_not_in_the_experiment_is_a_warning_not_a_refusal(app: Flask) -> None:
    text = HEAD + "pioreactors:\n  u9:\n    jobs:\n      stirring: {actions: [{type: start, t: 0s}]}\n"
    client = api_client(app)
    assert client.put("/api/profiles/p", json={"yaml": text}).status_code == 201
    r = client.post("/api/experiments/exp/profiles/p/run", json={"dry_run": True})
    assert r.status_code == 202 and r.json["operation"]["plan"] == []
    # names the unit and the experiment, and says what the runner does: nothing for u9, all run long
    message = (
        "unit u9 is not assigned to experiment 'exp'; its actions are skipped for this whole run "
        "(not scheduled, even if it is assigned later)"
    )
    # said in the 202 answer, not only in the run's log
    assert [(w["severity"], w["code"], w["message"], w["path"]) for w in r.json["warnings"]] == [
        ("warning", "unit.not_assigned", message, "pioreactors.u9")
    ]
    # an older client reads the answer as before; an answer without the field decodes with no warnings
    assert msgspec.json.decode(r.data, type=OperationAnswer).operation.id == r.json["operation"]["id"]
    older = msgspec.json.encode({"operation": r.json["operation"]})
    assert msgspec.json.decode(older, type=ProfileRunAnswer).warnings == []
    db = connect(app.config["DATABASE"])
    lines = ops_db.lines(db, r.json["operation"]["id"])
    db.close()
    assert ("warning", f"{message} (pioreactors.u9)") in [(line.level, line.text) for line in lines]
    ok = client.put("/api/profiles/ok", json={"yaml": REPEAT})
    assert ok.status_code == 201
    r = client.post("/api/experiments/exp/profiles/ok/run?wait=0.1", json={"dry_run": True})
    assert r.status_code == 202 and r.json["warnings"] == []


def test_the_warning_says_a_skipped_units_label_is_skipped_too() -> None:
    text = (
        HEAD
        + "pioreactors:\n  u9:\n    label: left\n"
        + "    jobs:\n      stirring: {actions: [{type: start, t: 0s}]}\n"
    )
    profile = load(text).profile
    assert profile is not None
    rows, warnings = planner.plan(profile, 0.0, ["u1"], ["u1"], experiment="demo")
    assert rows == [] and [w.message for w in warnings] == [
        "unit u9 is not assigned to experiment 'demo'; its actions and its label are skipped for this whole "
        "run (not scheduled, even if it is assigned later)"
    ]


REPEAT = (
    HEAD
    + """common:
  jobs:
    stirring:
      actions:
        - {type: log, t: 0.1s, options: {message: "late"}}
        - type: repeat
          t: 0.2s
          every: 0.5s
          max_time: 2.5s
          actions:
            - {type: log, t: 0s, options: {message: "tick"}}
"""
)


def _run(client: FlaskClient, text: str) -> str:
    assert client.put("/api/profiles/r", json={"yaml": text}).status_code in (200, 201)
    r = client.post("/api/experiments/exp/profiles/r/run", json={"dry_run": True})
    assert r.status_code == 202
    return str(r.json["operation"]["id"])


def test_past_due_rows_fire_once_and_a_repeat_keeps_its_count_without_a_burst(app: Flask) -> None:
    run_id = _run(api_client(app), REPEAT)
    db = connect(app.config["DATABASE"])
    # the worker was down for 60 s: every row is long past due
    db.execute("UPDATE profile_plan SET at = at - 60 WHERE run_id = ?", (run_id,))
    drivers = [Driver(app), Driver(app)]  # the old worker and its replacement, both ticking
    with app.app_context():
        back = time.time()
        drivers[0].tick()
        drivers[1].tick()
        plan = store.plan(db, run_id)
        # each past-due row fired once, in plan order; the repeat's next iteration is not before now
        assert [(e.unit, e.action, e.status) for e in plan[:4]] == [
            ("u1", "log", "done"),
            ("u2", "log", "done"),
            ("u1", "repeat", "done"),
            ("u2", "repeat", "done"),
        ]
        nxt = [e for e in plan if e.action == "repeat" and e.status == "pending"]
        assert len(nxt) == 2 and all(store.iso(back - 0.001) <= e.at for e in nxt)
        deadline = time.monotonic() + 15
        while ops_db.status(db, run_id)[0] not in ("succeeded", "partial", "failed"):
            assert time.monotonic() < deadline, store.plan(db, run_id)
            drivers[int(time.monotonic() * 50) % 2].tick()
            time.sleep(0.02)
        elapsed = time.time() - back
        plan = store.plan(db, run_id)
        lines = [line.text for line in ops_db.lines(db, run_id)]
    db.close()
    for unit in ("u1", "u2"):
        repeats = [e for e in plan if e.action == "repeat" and e.unit == unit]
        # max_time / every = 5 iterations, as if the worker had never stopped; never twice
        assert sorted(e.detail for e in repeats) == [f"iteration {i}" for i in range(1, 6)]
        assert lines.count(f"{unit} stirring log: dry run: would log NOTICE 'tick'") == 5
        assert lines.count(f"{unit} stirring log: dry run: would log NOTICE 'late'") == 1
    # not replayed in a burst: the four iterations after the first keep their 0.5 s cadence from `back`
    assert elapsed >= 1.4, elapsed


def test_a_row_claimed_by_a_dead_worker_is_failed_not_repeated(app: Flask) -> None:
    run_id = _run(api_client(app), REPEAT)
    db = connect(app.config["DATABASE"])
    first = store.due(db, run_id, time.time() + 10)[0]
    assert store.claim(db, run_id, first.seq)  # claimed; the worker died before it acted
    with app.app_context():
        driver = Driver(app)
        driver.recover()  # what a new worker does first
        deadline = time.monotonic() + 15
        while ops_db.status(db, run_id)[0] not in ("succeeded", "partial", "failed"):
            assert time.monotonic() < deadline
            driver.tick()
            time.sleep(0.02)
        final = ops_db.get(db, run_id)
        lines = [line.text for line in ops_db.lines(db, run_id)]
    db.close()
    row = next(e for e in final.plan or [] if e.action == "log" and e.status == "failed")
    assert row.detail == "the leader worker stopped as it fired"
    assert row.unit == "u1"
    late = [line for line in lines if line.endswith("would log NOTICE 'late'")]
    assert late == ["u2 stirring log: dry run: would log NOTICE 'late'"]  # u1's never fired by the new worker
    assert final.status == "partial"


IF_NEVER_PUBLISHED = (
    HEAD
    + """common:
  jobs:
    stirring:
      actions:
        - {type: log, t: 0s, if: "::od_reading:od1.od > 0.5", options: {message: "dense"}}
        - {type: log, t: 0s, options: {message: "always"}}
"""
)


def test_an_if_reading_a_setting_never_published_skips_the_action_and_the_run_succeeds(app: Flask) -> None:
    run_id = _run(api_client(app), IF_NEVER_PUBLISHED)  # od_reading never ran: no such topic value
    db = connect(app.config["DATABASE"])
    with app.app_context():
        driver = Driver(app)
        deadline = time.monotonic() + 15
        while ops_db.status(db, run_id)[0] not in ("succeeded", "partial", "failed"):
            assert time.monotonic() < deadline, store.plan(db, run_id)
            driver.tick()
            time.sleep(0.02)
        final = ops_db.get(db, run_id)
        lines = [(line.level, line.text) for line in ops_db.lines(db, run_id)]
    db.close()
    assert final.status == "succeeded", final.plan
    assert all(s.status == "ok" for s in final.steps)
    why = (
        "`if` condition, `::od_reading:od1.od > 0.5`, could not be evaluated: "
        "{unit}:od_reading:od1 does not exist for experiment `exp`. Skipping action."
    )
    for unit in ("u1", "u2"):
        rows = [(e.status, e.detail) for e in final.plan or [] if e.unit == unit]
        assert rows == [
            ("skipped", why.format(unit=unit)),
            ("done", "dry run: would log NOTICE 'always'"),
        ]
        assert ("warning", f"{unit} stirring log: {why.format(unit=unit)}") in lines
    assert lines[-1] == ("info", "Finished executing DRY-RUN of profile test: 2 done, 2 skipped, 0 failed.")
