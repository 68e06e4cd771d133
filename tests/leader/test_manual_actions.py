"""Manual actions on /api (dosing by mL or seconds, LED intensities) against real HTTP stand-in agents:
each is an operation running pio's one-shot job; bad input and over-filling are refused before anything
is queued, naming the field."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.leader.standin import StandIn
from tests.leader.test_api import cluster  # noqa: F401  (the fixture: three stand-ins, experiment `exp`)

Cluster = tuple[FlaskClient, list[StandIn]]
CONFIG = "[bioreactor]\ninitial_volume_ml = 14\n"


def _runs(agent: StandIn, job: str) -> list[Any]:
    return [b for m, p, b in agent.bodies if m == "POST" and p == f"/unit_api/jobs/run/job_name/{job}"]


def _refused(api: FlaskClient, agents: list[StandIn], path: str, body: Any, status: int, field: str) -> None:
    before = sum(len(a.requests) for a in agents), len(api.get("/api/operations").json["operations"])
    r = api.post(path, json=body)
    assert r.status_code == status, (body, r.status_code, r.json)
    assert set(r.json) == {"error", "message"} and field in r.json["message"], (body, r.json)
    after = sum(len(a.requests) for a in agents), len(api.get("/api/operations").json["operations"])
    assert after == before, body  # nothing queued, no unit asked


def test_add_media_by_ml_and_by_seconds(cluster: Cluster) -> None:  # noqa: F811
    api, agents = cluster
    r = api.post("/api/experiments/exp/actions/add_media", json={"ml": 1, "units": ["pio0", "pio1"]})
    assert r.status_code == 202 and r.headers["Location"].startswith("/api/operations/")
    op = r.json["operation"]
    assert op["kind"] == "manual.add_media" and op["status"] == "succeeded", op
    assert {s["detail"] for s in op["steps"]} == {"add_media 1 mL: started"}
    assert _runs(agents[0], "add_media")[-1]["options"] == {"ml": 1.0, "source_of_event": "API"}
    assert _runs(agents[2], "add_media") == []
    # a dose still running on a unit means the new one did not happen there: a failed step
    op = api.post("/api/experiments/exp/actions/add_media", json={"seconds": 2.5}).json["operation"]
    steps = {s["unit"]: (s["status"], s["detail"]) for s in op["steps"]}
    assert op["status"] == "partial" and steps["pio2"] == ("ok", "add_media 2.5 s: started"), steps
    assert steps["pio0"] == ("failed", "add_media is still running from before; 2.5 s not done")
    assert _runs(agents[2], "add_media")[-1]["options"] == {"duration": 2.5, "source_of_event": "API"}
    op = api.post("/api/experiments/exp/actions/add_alternative_media", json={"ml": 0.5}).json["operation"]
    assert (
        op["status"] == "succeeded" and _runs(agents[1], "add_alternative_media")[-1]["options"]["ml"] == 0.5
    )
    op = api.post("/api/experiments/exp/actions/remove_waste", json={"ml": 30}).json["operation"]
    assert op["status"] == "succeeded", op  # removing never fills: no safe-fill check


def test_a_dose_above_the_safe_fill_volume_is_refused_with_the_reason(cluster: Cluster) -> None:  # noqa: F811
    api, agents = cluster
    assert api.put("/api/config/files/config.ini", json={"content": CONFIG}).status_code in (200, 201)
    path = "/api/experiments/exp/actions/add_media"
    _refused(api, agents, path, {"ml": 4.5}, 400, "`$.ml`")
    r = api.post(path, json={"ml": 4.5})
    assert r.json["error"] == "over_safe_fill"
    assert (
        "pio0 holds 14 mL and would reach 18.5 mL, above its pioreactor_20ml safe fill volume of 18 mL"
        in r.json["message"]
    )
    _refused(
        api, agents, "/api/experiments/exp/actions/add_alternative_media", {"seconds": 5}, 400, "`$.seconds`"
    )
    # a 40 mL model holds more; the volume a unit published wins over the config's initial volume
    assert api.patch("/api/units/pio0", json={"model": "pioreactor_40ml"}).status_code == 200
    op = api.post(path, json={"ml": 4.5, "units": ["pio0"]}).json["operation"]
    assert op["status"] == "succeeded"
    db = api.application.config["DATABASE"]
    from leader.db import connect

    conn = connect(db)
    with conn:
        conn.execute(
            "INSERT INTO topic_values VALUES ('pio1', 'exp', 'bioreactor', 'current_volume_ml', ?, 1.0)",
            ('{"timestamp": "2026-01-01T00:00:00Z", "value": 10.0}',),
        )
    assert api.post(path, json={"ml": 8, "units": ["pio1"]}).json["operation"]["status"] == "succeeded"
    _refused(api, agents, path, {"ml": 8.5, "units": ["pio1"]}, 400, "pio1 holds 10 mL")
    # a lab's own vessel: the config names its safe fill volume
    content = CONFIG + "max_fill_volume_ml = 14.5\n"
    assert api.put("/api/config/files/config_pio2.ini", json={"content": content}).status_code in (200, 201)
    _refused(api, agents, path, {"ml": 1, "units": ["pio2"]}, 400, "safe fill volume of 14.5 mL")


def test_led_intensity_per_channel(cluster: Cluster) -> None:  # noqa: F811
    api, agents = cluster
    r = api.post("/api/experiments/exp/actions/led_intensity", json={"intensities": {"B": 50, "A": 0}})
    op = r.json["operation"]
    assert r.status_code == 202 and op["kind"] == "manual.led_intensity" and op["status"] == "succeeded", op
    assert {s["detail"] for s in op["steps"]} == {"led_intensity A 0%, B 50%: started"}
    assert _runs(agents[0], "led_intensity")[-1]["options"] == {"A": 0.0, "B": 50.0, "source_of_event": "API"}


def test_bad_input_is_refused_naming_the_field(cluster: Cluster) -> None:  # noqa: F811
    api, agents = cluster
    dose = "/api/experiments/exp/actions/add_media"
    for body, field in [
        ({}, "$.ml"),
        ({"ml": 1, "seconds": 1}, "$.seconds"),
        ({"ml": 0}, "$.ml"),
        ({"ml": -1}, "$.ml"),
        ({"ml": "1"}, "$.ml"),
        ({"ml": 1e9}, "$.ml"),
        ({"seconds": 3601}, "$.seconds"),
        ({"ml": 1, "units": ["pio0", "pio0"]}, "$.units"),
        ({"ml": 1, "units": ["a/b"]}, "$.units[0]"),
        ([1], "object"),
    ]:
        _refused(api, agents, dose, body, 400, field)
    _refused(api, agents, dose, {"ml": 1, "units": ["ghost"]}, 409, "$.units")
    leds = "/api/experiments/exp/actions/led_intensity"
    for body, field in [
        ({}, "intensities"),
        ({"intensities": {}}, "$.intensities"),
        ({"intensities": {"E": 5}}, "$.intensities"),
        ({"intensities": {"A": 101}}, "$.intensities.A"),
        ({"intensities": {"A": -1}}, "$.intensities.A"),
        ({"intensities": {"A": True}}, "$.intensities.A"),
    ]:
        _refused(api, agents, leds, body, 400, field)
    _refused(api, agents, "/api/experiments/exp/actions/reboot", {"ml": 1}, 404, "reboot")
    _refused(api, agents, "/api/experiments/nope/actions/add_media", {"ml": 1}, 404, "nope")
