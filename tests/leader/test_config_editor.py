"""The config editor's API: every problem on its line, secrets refused, the diff a save would make, history
with who saved each version, revert as a new version, and sync where an offline unit is a failed step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from leader import setup
from leader.config_check import diagnose
from leader.db import connect
from tests.leader.conftest import with_standins
from tests.leader.standin import StandIn

BAD = """# shared config
stray = 1
[stirring.config]
target_rpm = 400
target_rpm = 500
[od_reading.config]
samples_per_second = 0.2
this line has no delimiter
[stirring.config]
[mqtt]
password = raspberry
"""


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[FlaskClient, list[StandIn]]]:
    with with_standins(tmp_path, 2, experiment=False) as (_, client, agents):
        yield client, agents


def test_every_problem_is_named_on_its_line() -> None:
    found = [(d.line, d.code) for d in diagnose(BAD)]
    assert found == [
        (2, "missing_section"),
        (5, "duplicate_key"),
        (8, "bad_line"),
        (9, "duplicate_section"),
        (11, "secret"),
    ]
    assert diagnose("[a]\nx = 1\n  continued\n\n; note\n[b]\nX : 2\npassword =\n") == []
    # keys are case-insensitive to Pioreactor's configparser: `X` and `x` are one key
    assert [d.code for d in diagnose("[a]\nx = 1\nX = 2\n")] == ["duplicate_key"]


def test_a_refused_save_lists_every_problem_and_saves_nothing(
    cluster: tuple[FlaskClient, list[StandIn]],
) -> None:
    client, _ = cluster
    r = client.put("/api/config/files/config.ini", json={"content": BAD})
    assert r.status_code == 400 and r.json["error"] == "invalid_config"
    assert r.json["message"].startswith("Invalid INI at `$.content`: line 2:")
    assert [d["line"] for d in r.json["diagnostics"]] == [2, 5, 8, 9, 11]
    secret = r.json["diagnostics"][-1]
    assert secret["code"] == "secret" and "do not belong in config files" in secret["message"]
    assert client.get("/api/config/files/config.ini").status_code == 404
    # only files a sync writes: config.ini and config_<unit>.ini of a registered unit
    r = client.put("/api/config/files/config_nobody.ini", json={"content": "[a]\n"})
    assert r.status_code == 409 and r.json["error"] == "unknown_config_file"


def test_check_answers_the_diff_and_saves_nothing(cluster: tuple[FlaskClient, list[StandIn]]) -> None:
    client, _ = cluster
    first = client.put(
        "/api/config/files/config.ini", json={"content": "[stirring.config]\ntarget_rpm = 400\n"}
    )
    assert first.status_code == 200
    r = client.post(
        "/api/config/files/config.ini/check", json={"content": "[stirring.config]\ntarget_rpm = 450\n"}
    )
    assert r.status_code == 200
    check = r.json
    assert check["diagnostics"] == [] and check["changed"] is True
    assert check["current_sha256"] == first.json["sha256"]
    assert "-target_rpm = 400\n+target_rpm = 450" in check["diff"]
    assert check["diff"].startswith("--- config.ini (saved)\n+++ config.ini (edited)\n@@")
    same = client.post(
        "/api/config/files/config.ini/check", json={"content": "[stirring.config]\ntarget_rpm = 400\n"}
    )
    assert same.json["changed"] is False and same.json["diff"] == ""
    bad = client.post("/api/config/files/config.ini/check", json={"content": "[a]\nb\n"}).json
    assert [(d["line"], d["code"]) for d in bad["diagnostics"]] == [(2, "bad_line")]
    # a unit's file not saved yet: its diff is against an empty file
    new = client.post("/api/config/files/config_pio0.ini/check", json={"content": "[x]\ny = 1\n"}).json
    assert new["current_sha256"] is None and "+y = 1" in new["diff"]
    assert (
        client.get("/api/config/files/config.ini").json["content"] == "[stirring.config]\ntarget_rpm = 400\n"
    )


def test_history_says_who_and_revert_is_a_new_version(cluster: tuple[FlaskClient, list[StandIn]]) -> None:
    client, _ = cluster
    texts = [f"[stirring.config]\ntarget_rpm = {rpm}\n" for rpm in (400, 450, 500)]
    for text in texts:
        assert client.put("/api/config/files/config.ini", json={"content": text}).status_code == 200
    history = client.get("/api/config/files/config.ini/history").json["history"]
    assert [h["content"] for h in history] == texts[::-1]
    assert all(h["saved_by"].startswith("token:") and h["saved_at"] for h in history)
    newest, oldest = history[0], history[-1]
    assert "-target_rpm = 450\n+target_rpm = 500" in newest["diff"]
    assert oldest["diff"].startswith(f"--- config.ini (empty)\n+++ config.ini (#{oldest['id']})")

    current = client.get("/api/config/files/config.ini").json["sha256"]
    stale = client.post(
        f"/api/config/files/config.ini/history/{oldest['id']}/revert", json={"sha256": "0" * 64}
    )
    assert stale.status_code == 409
    r = client.post(f"/api/config/files/config.ini/history/{oldest['id']}/revert", json={"sha256": current})
    assert r.status_code == 200 and r.json["content"] == texts[0]
    history = client.get("/api/config/files/config.ini/history").json["history"]
    assert len(history) == 4 and history[0]["reverted_from"] == oldest["id"]
    assert "-target_rpm = 500\n+target_rpm = 400" in history[0]["diff"]
    assert client.post("/api/config/files/config.ini/history/999999/revert", json={}).status_code == 404
    audit = client.get("/api/audit").json
    entries = audit["entries"] if isinstance(audit, dict) else audit
    assert any(e.get("action") == "config.revert" for e in entries)


def test_sync_with_an_offline_unit_is_a_failed_step(cluster: tuple[FlaskClient, list[StandIn]]) -> None:
    client, agents = cluster
    r = client.post("/api/config/sync", json={})
    assert r.status_code == 409 and r.json["error"] == "nothing_to_sync"
    client.put("/api/config/files/config.ini", json={"content": "[stirring.config]\ntarget_rpm = 400\n"})
    client.put("/api/config/files/config_pio0.ini", json={"content": "[stirring.config]\ntarget_rpm = 300\n"})
    agents[1].stop()
    op = client.post("/api/config/sync", json={}).json["operation"]
    assert op["kind"] == "config.sync" and op["status"] == "partial"
    steps = {s["unit"]: s for s in op["steps"]}
    assert steps["pio0"]["status"] == "ok" and steps["pio0"]["detail"] == "wrote config.ini, unit_config.ini"
    assert steps["pio1"]["status"] == "failed" and "unreachable" in steps["pio1"]["detail"]
    assert agents[0].files["unit_config.ini"] == "[stirring.config]\ntarget_rpm = 300\n"
    # one unit's file syncs to that unit alone
    one = client.post("/api/config/sync", json={"units": ["pio0"]}).json["operation"]
    assert one["status"] == "succeeded" and one["targets"] == ["pio0"]


def test_the_page_shows_files_problems_history_and_a_sync(cluster: tuple[FlaskClient, list[StandIn]]) -> None:
    client, _ = cluster
    db = connect(client.application.config["DATABASE"])
    setup.complete(db, "test")
    db.close()
    for rpm in (400, 450):
        client.put(
            "/api/config/files/config.ini", json={"content": f"[stirring.config]\ntarget_rpm = {rpm}\n"}
        )
    op = client.post("/api/config/sync", json={}).json["operation"]
    html = client.get(f"/config?sync={op['id']}").get_data(as_text=True)
    assert "config_pio0.ini" in html and "config_pio1.ini" in html and "not saved yet" in html
    assert 'data-check-url="/api/config/files/config.ini/check"' in html
    assert html.count("data-version=") == 2 and "Revert to #" in html
    assert 'class="diff-line diff-add">+target_rpm = 450</span>' in html
    assert html.count("data-sync-unit=") == 2 and "No secrets here" in html
    assert "<script>" not in html and " style=" not in html
    unit_file = client.get("/config?file=config_pio0.ini").get_data(as_text=True)
    assert 'data-sync-body=\'{"units": ["pio0"]}\'' in unit_file and "No saved version yet" in unit_file
    assert client.get("/config?file=nope.ini").status_code == 404
    assert 'data-file-synced="config.ini"' in html and "All 2 units it goes to have this version." in html
    assert 'data-file-synced="config_pio0.ini"' not in html  # not saved: nothing to sync
    assert "data-sync-now" not in html  # synced: nothing to sync now
    client.put("/api/config/files/config.ini", json={"content": "[stirring.config]\ntarget_rpm = 500\n"})
    html = client.get("/config").get_data(as_text=True)
    assert "not synced to 2 units</span>" in html and "pio0, pio1 have not received this version" in html
    assert 'data-sync-now data-then="/config?file=config.ini&sync={operation}"' in html
    assert "Writes the saved config.ini to pio0, pio1." in html


def test_saved_but_not_synced_names_the_units_until_a_sync_writes_that_version(
    cluster: tuple[FlaskClient, list[StandIn]],
) -> None:
    client, agents = cluster

    def unsynced(name: str) -> list[str]:
        return list(client.get(f"/api/config/files/{name}").json["unsynced_units"])

    def sync(body: dict[str, list[str]]) -> str:
        return str(client.post("/api/config/sync", json=body).json["operation"]["status"])

    v1, v2 = (f"[stirring.config]\ntarget_rpm = {rpm}\n" for rpm in (400, 450))
    saved = client.put("/api/config/files/config.ini", json={"content": v1})
    assert saved.json["unsynced_units"] == ["pio0", "pio1"]  # never synced: the PUT's answer says so too
    mine = client.put("/api/config/files/config_pio0.ini", json={"content": "[od_reading.config]\nx = 1\n"})
    assert mine.json["unsynced_units"] == ["pio0"]  # a unit's own file goes to that unit alone

    assert sync({"units": ["pio0"]}) == "succeeded"
    assert unsynced("config.ini") == ["pio1"] and unsynced("config_pio0.ini") == []
    assert sync({}) == "succeeded"
    listed = {f["name"]: f["unsynced_units"] for f in client.get("/api/config/files").json["files"]}
    assert listed == {"config.ini": [], "config_pio0.ini": []}

    again = client.put("/api/config/files/config.ini", json={"content": v2})
    assert again.json["unsynced_units"] == ["pio0", "pio1"] and unsynced("config_pio0.ini") == []
    agents[1].stop()  # a failed step is no sync
    assert sync({}) == "partial"
    assert unsynced("config.ini") == ["pio1"]
    # by sha256, not by time: back to the first version, which pio1 still has and pio0 no longer has
    first = client.get("/api/config/files/config.ini/history").json["history"][-1]["id"]
    reverted = client.post(f"/api/config/files/config.ini/history/{first}/revert", json={})
    assert reverted.json["content"] == v1 and reverted.json["unsynced_units"] == ["pio0"]
    # a unit removed and added back under its name may be another machine: what was synced there is forgotten
    assert client.delete("/api/units/pio1").status_code == 204
    assert unsynced("config.ini") == ["pio0"]
    assert client.post("/api/units", json={"name": "pio1", "address": "127.0.0.1"}).status_code == 201
    assert unsynced("config.ini") == ["pio0", "pio1"]
