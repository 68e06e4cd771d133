"""The experiment lifecycle on /api against real HTTP stand-in agents (operations run inside the request):
End as an operation, delete with its data or archived, create copying another's settings, edit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from leader.db import connect
from tests.leader.standin import StandIn
from tests.leader.test_api import cluster  # noqa: F401  (the fixture: three stand-ins, experiment `exp`)

Cluster = tuple[FlaskClient, list[StandIn]]


def _error(r: Any, status: int, field: str, code: str | None = None) -> None:
    assert r.status_code == status, (r.status_code, r.json)
    assert set(r.json) == {"error", "message"} and field in r.json["message"], r.json
    assert code is None or r.json["error"] == code, r.json


def _db(api: FlaskClient) -> Any:
    return connect(api.application.config["DATABASE"])


def test_end_stops_the_jobs_then_unassigns_the_units(cluster: Cluster) -> None:  # noqa: F811
    api, agents = cluster
    assert (
        api.post("/api/experiments/exp/jobs/stirring/start", json={}).json["operation"]["status"]
        == "succeeded"
    )
    r = api.post("/api/experiments/exp/end")
    assert r.status_code == 202 and r.headers["Location"].startswith("/api/operations/")
    op = r.json["operation"]
    assert op["kind"] == "experiment.end" and op["status"] == "succeeded", op
    assert {s["unit"]: s["detail"] for s in op["steps"]} == {
        a.unit: "stopped stirring; unassigned" for a in agents
    }
    for agent in agents:
        assert ("POST", "/unit_api/jobs/stop") in agent.requests and agent.running == {}
    assert api.get("/api/experiments/exp").json["units"] == []
    history = _db(api).execute("SELECT count(*) FROM assignments WHERE experiment = 'exp'").fetchone()[0]
    assert history == 3  # unassigning closes the rows, history stays
    _error(api.post("/api/experiments/exp/end"), 409, "nothing to end", "no_targets")
    _error(api.post("/api/experiments/nope/end"), 404, "nope")


def test_end_keeps_a_unit_whose_jobs_did_not_stop(cluster: Cluster) -> None:  # noqa: F811
    api, agents = cluster
    agents[2].stop()  # gone: its jobs may still run, so it must not look free
    op = api.post("/api/experiments/exp/end").json["operation"]
    assert op["status"] == "partial", op
    steps = {s["unit"]: s for s in op["steps"]}
    assert steps["pio2"]["status"] == "failed"
    assert steps["pio0"]["detail"] == "not running; unassigned"
    assert api.get("/api/experiments/exp").json["units"] == ["pio2"]
    text = [
        r[0] for r in _db(api).execute("SELECT text FROM operation_lines WHERE operation_id = ?", (op["id"],))
    ]
    assert any("still assigned (jobs not stopped): pio2" in t for t in text), text


def _seed_data(api: FlaskClient, exp: str) -> None:
    db = _db(api)
    with db:
        db.execute(
            "INSERT INTO readings VALUES ('od', ?, 'pio0', 1.0, 0.5), ('od', ?, 'pio0', 2.0, 0.6)", (exp, exp)
        )
        db.execute(
            "INSERT INTO logs (ts, dedupe, unit, experiment, job, source, level, message) "
            "VALUES (1000, 1, 'pio0', ?, 'stirring', 'app', 2, 'old run')",
            (exp,),
        )
        db.execute("INSERT INTO job_states VALUES ('pio0', ?, 'stirring', 'disconnected', 1.0)", (exp,))
        db.execute(
            "INSERT INTO job_settings VALUES ('pio0', ?, 'stirring', 'target_rpm', '500', 1.0)", (exp,)
        )
        db.execute(
            "INSERT INTO topic_values VALUES ('pio0', ?, 'bioreactor', 'current_volume_ml', '15', 1.0)",
            (exp,),
        )


def _rows(api: FlaskClient, exp: str) -> dict[str, int]:
    db = _db(api)
    tables = (
        "readings",
        "readings_minutes",
        "logs",
        "job_states",
        "job_settings",
        "topic_values",
        "unit_labels",
    )
    counts = {}
    for t in tables:
        sql = f"SELECT count(*) FROM {t} WHERE experiment = ?"  # noqa: S608  (names from the tuple above)
        counts[t] = db.execute(sql, (exp,)).fetchone()[0]
    return counts


def test_delete_with_its_data_leaves_nothing_a_new_experiment_would_inherit(cluster: Cluster) -> None:  # noqa: F811
    api, _ = cluster
    api.put("/api/experiments/exp/units/pio0/label", json={"label": "blue"})
    _seed_data(api, "exp")
    _error(api.delete("/api/experiments/exp"), 409, "end it first", "units_assigned")
    assert api.post("/api/experiments/exp/end").json["operation"]["status"] == "succeeded"
    _error(api.delete("/api/experiments/exp?data=maybe"), 400, "?data")
    assert api.delete("/api/experiments/exp?data=delete").status_code == 204
    assert api.get("/api/experiments/exp").status_code == 404
    assert set(_rows(api, "exp").values()) == {0}
    ops = _db(api).execute(
        "SELECT count(*) FROM operations WHERE json_extract(params, '$.experiment') = 'exp'"
    )
    assert ops.fetchone()[0] == 0
    # the same name again starts empty: no labels, no readings, no old logs
    assert api.post("/api/experiments", json={"name": "exp"}).status_code == 201
    assert api.put("/api/experiments/exp/units", json={"units": ["pio0"]}).json == {
        "units": ["pio0"],
        "labels": {},
    }
    assert api.get("/api/logs?experiment=exp").json["logs"] == []
    assert api.get("/api/experiments/exp/time_series/od").json["units"] == {}


def test_delete_keeping_data_archives_it_and_reserves_the_name(cluster: Cluster) -> None:  # noqa: F811
    api, _ = cluster
    _seed_data(api, "exp")
    api.post("/api/experiments/exp/end")
    assert api.delete("/api/experiments/exp?data=keep").status_code == 204
    found = api.get("/api/experiments/exp").json
    assert found["archived_at"] and found["units"] == []
    assert [e["archived_at"] is not None for e in api.get("/api/experiments").json] == [True]
    assert _rows(api, "exp")["readings"] == 2 and _rows(api, "exp")["logs"] == 1
    _error(api.post("/api/experiments", json={"name": "exp"}), 409, "archived", "name_archived")
    _error(api.put("/api/experiments/exp/units", json={"units": ["pio0"]}), 409, "archived", "archived")
    assert api.delete("/api/experiments/exp?data=keep").status_code == 204  # again: nothing changes
    # an archived experiment can still be deleted with its data, which frees the name
    assert api.delete("/api/experiments/exp").status_code == 204
    assert set(_rows(api, "exp").values()) == {0}
    assert api.post("/api/experiments", json={"name": "exp"}).status_code == 201


def test_create_copying_settings_and_edit(cluster: Cluster) -> None:  # noqa: F811
    api, _ = cluster
    assert (
        api.patch("/api/experiments/exp", json={"description": "yeast, 30 °C"}).json["description"]
        == "yeast, 30 °C"
    )
    api.put("/api/experiments/exp/units/pio0/label", json={"label": "blue"})
    rule = {"experiment": "exp", "series": "od", "op": ">", "value": 1.5}
    assert api.post("/api/alerts/rules", json=rule).status_code == 201
    r = api.post("/api/experiments", json={"name": "exp2", "copy_from": "exp"})
    assert r.status_code == 201 and r.json["description"] == "yeast, 30 °C", r.json
    moved = api.put("/api/experiments/exp2/units", json={"units": ["pio0"], "move": True}).json
    assert moved == {"units": ["pio0"], "labels": {"pio0": "blue"}}
    rules = api.get("/api/alerts/rules").json["thresholds"]
    assert sorted((t["experiment"], t["value"]) for t in rules) == [("exp", 1.5), ("exp2", 1.5)]
    own = api.post("/api/experiments", json={"name": "exp3", "copy_from": "exp", "description": "own"})
    assert own.json["description"] == "own"
    _error(api.post("/api/experiments", json={"name": "exp4", "copy_from": "nope"}), 409, "$.copy_from")
    _error(api.post("/api/experiments", json={"name": "exp4", "copy_from": "a/b"}), 400, "$.copy_from")
    assert api.get("/api/experiments/exp4").status_code == 404
    _error(api.patch("/api/experiments/exp", json={"description": 5}), 400, "$.description")


def test_purge_knows_every_table_keyed_by_an_experiment(tmp_path: Path) -> None:
    """A new table with an `experiment` column must be purged with the experiment, or listed here with why."""
    from leader.db import experiment_data, migrate

    migrate.init_db(str(tmp_path / "s.sqlite"))
    db = connect(str(tmp_path / "s.sqlite"))
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    keyed = {t for t in tables if any(c[1] == "experiment" for c in db.execute(f"PRAGMA table_info({t})"))}
    db.close()
    handled = set(experiment_data._KEYED) | {"assignments", "readings", "readings_minutes", "experiments"}
    fts = {t for t in keyed if t.startswith("logs_fts")}  # the search index follows `logs` by its trigger
    assert keyed - handled - fts == set()
