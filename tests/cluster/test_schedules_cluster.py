"""Schedules fire exactly once with real processes: gunicorn with 4 web workers, the leader worker (the one
APScheduler), agents with pio-sim. Each test makes a schedule of its own (its action's `target_rpm` tells
its operations apart) and deletes it at the end.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devcluster.broker import Broker
from devcluster.cluster import Cluster
from devcluster.procs import wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("schedules_cluster"), pytest.mark.timeout(180)]

UNITS = ["unit1", "unit2"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("schedules"), units=2, broker=mqtt_broker, web_workers=4)
    c.start()
    try:
        assert c.api("POST", "/api/experiments", json={"name": "exp"}).status_code == 201
        assert c.api("PUT", "/api/experiments/exp/units", json={"units": UNITS}).status_code == 200
        yield c
    finally:
        c.stop()


def t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def create(cluster: Cluster, rpm: int, trigger: dict[str, Any]) -> dict[str, Any]:
    body = {
        "name": f"stirring {rpm}",
        "trigger": trigger,
        "action": {
            "kind": "job.start",
            "experiment": "exp",
            "job": "stirring",
            "options": {"target_rpm": rpm},
        },
    }
    r = cluster.api("POST", "/api/schedules", json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def history(cluster: Cluster, schedule_id: int) -> list[dict[str, Any]]:
    r = cluster.api("GET", f"/api/schedules/{schedule_id}/history?limit=500")
    assert r.status_code == 200, r.text
    return sorted(r.json()["history"], key=lambda h: h["due_at"])  # type: ignore[no-any-return]


def operations_of(cluster: Cluster, rpm: int) -> list[dict[str, Any]]:
    ops = cluster.api("GET", "/api/operations?kind=job.start&limit=500").json()["operations"]
    return [o for o in ops if o["trigger"] == "schedule" and o["params"]["options"].get("target_rpm") == rpm]


RESTART = timedelta(seconds=0.5)  # a new worker takes longer than this to start firing


def assert_exactly_once(
    cluster: Cluster, schedule_id: int, rpm: int, killed_at: datetime | None = None
) -> list[dict[str, Any]]:
    """One operation per firing, one firing per due time, and no operation outside a firing.

    A firing is claimed, then its operation submitted and linked: one still on its way when the schedule
    was disabled is waited for. With `killed_at` (the worker SIGKILLed then), the one firing that kill may
    have cut between its claim and its link (fired before the new worker was up: RESTART) may stay without
    an operation, by design "never twice", not
    "retry" (leader.schedules.fire); its operation, if it was submitted, is then the one not linked."""

    def linked() -> list[dict[str, Any]] | None:
        fired = history(cluster, schedule_id)
        waiting = [
            h
            for h in fired
            if h["operation"] is None and (killed_at is None or t(h["fired_at"]) > killed_at + RESTART)
        ]
        return None if waiting else fired

    fired = wait_for(linked, 20, 0.1, "every firing linked to its operation")
    dues = [h["due_at"] for h in fired]
    assert len(dues) == len(set(dues))
    cut = [h for h in fired if h["operation"] is None]
    assert len(cut) <= 1, cut  # only ever the one a kill interrupted (fired before it)
    op_ids = [h["operation"]["id"] for h in fired if h["operation"] is not None]
    assert len(set(op_ids)) == len(op_ids)
    ops = operations_of(cluster, rpm)
    unlinked = sorted(set(o["id"] for o in ops) - set(op_ids))
    assert len(unlinked) <= len(cut), (unlinked, cut)
    assert sorted(o["id"] for o in ops if o["id"] not in unlinked) == sorted(op_ids)
    assert {o["requested_by"] for o in ops} == {f"schedule:{schedule_id}"}
    return fired


def delete(cluster: Cluster, schedule_id: int) -> None:
    assert cluster.api("DELETE", f"/api/schedules/{schedule_id}").status_code == 204


def test_interval_over_twenty_seconds_yields_the_expected_operations(cluster: Cluster) -> None:
    s = create(cluster, 401, {"type": "interval", "seconds": 2})
    created = t(s["created_at"])
    wait_for(lambda: datetime.now(UTC) > created + timedelta(seconds=21), 30, 0.2, "twenty seconds")
    # 2 s, 4 s, … 20 s after creation; a 22 s one may be just firing: stop it before counting
    cluster.api("PATCH", f"/api/schedules/{s['id']}", json={"enabled": False})
    fired = assert_exactly_once(cluster, s["id"], 401)
    grid = [created + timedelta(seconds=2 * (i + 1)) for i in range(10)]
    assert [t(h["due_at"]) for h in fired][:10] == grid, cluster.logs()
    assert len(fired) in (10, 11)
    late = [(t(h["operation"]["created_at"]) - t(h["due_at"])).total_seconds() for h in fired]
    assert all(0 <= x < 1.0 for x in late), late
    assert all(h["operation"]["status"] in ("queued", "running", "succeeded") for h in fired)
    assert fired[-1]["operation"]["trigger"] == "schedule"
    wait_for(
        lambda: (
            cluster.api("GET", f"/api/operations/{fired[0]['operation']['id']}").json()["operation"]["status"]
            == "succeeded"
        ),
        20,
        0.2,
        "first firing succeeded",
    )
    delete(cluster, s["id"])


def test_frozen_worker_catches_up_at_most_once(cluster: Cluster) -> None:
    s = create(cluster, 402, {"type": "interval", "seconds": 1})
    wait_for(lambda: len(history(cluster, s["id"])) >= 2, 15, 0.1, "two firings")
    worker = cluster.leader_worker
    assert worker is not None
    worker.kill(signal.SIGSTOP)
    frozen_at = datetime.now(UTC)
    try:
        time.sleep(5)  # the freeze itself: five periods pass with the scheduler stopped
    finally:
        worker.kill(signal.SIGCONT)
    thawed_at = datetime.now(UTC)
    wait_for(
        lambda: any(t(h["due_at"]) > thawed_at + timedelta(seconds=2) for h in history(cluster, s["id"])),
        15,
        0.1,
        "firings after the thaw",
    )
    cluster.api("PATCH", f"/api/schedules/{s['id']}", json={"enabled": False})
    fired = assert_exactly_once(cluster, s["id"], 402)
    # due while frozen (give the last period before the freeze its second to fire)
    missed = [h for h in fired if frozen_at + timedelta(seconds=1) < t(h["due_at"]) <= thawed_at]
    assert len(missed) <= 1, missed
    # the catch-up came when the worker thawed, not before
    assert all(t(h["fired_at"]) >= thawed_at - timedelta(milliseconds=50) for h in missed)
    delete(cluster, s["id"])


def test_killed_worker_restarted_mid_run_never_fires_twice_and_continues(cluster: Cluster) -> None:
    s = create(cluster, 403, {"type": "interval", "seconds": 1})
    wait_for(lambda: len(history(cluster, s["id"])) >= 3, 15, 0.1, "three firings")
    killed_at = datetime.now(UTC)
    cluster.restart_leader_worker()  # SIGKILL, then a new worker
    wait_for(
        lambda: (
            any(t(h["fired_at"]) > killed_at + timedelta(seconds=1) for h in history(cluster, s["id"]))
            and len([h for h in history(cluster, s["id"]) if t(h["due_at"]) > killed_at]) >= 3
        ),
        40,
        0.2,
        "firings from the new worker",
    )
    cluster.api("PATCH", f"/api/schedules/{s['id']}", json={"enabled": False})
    fired = assert_exactly_once(cluster, s["id"], 403, killed_at)
    # the new worker (it needs well over half a second to start) catches up on its down time at most once:
    # no firing but its first may answer a due time from before its return
    new = [h for h in fired if t(h["fired_at"]) > killed_at + RESTART]
    back = min(t(h["fired_at"]) for h in new)
    caught_up = [h for h in new if t(h["due_at"]) <= back]
    assert len(caught_up) <= 1, (back - killed_at, caught_up)
    created = t(s["created_at"])
    for h in fired:  # every due time on the schedule's one grid, before and after the restart
        offset = (t(h["due_at"]) - created).total_seconds()
        assert abs(offset - round(offset)) < 0.002, h
    delete(cluster, s["id"])


def test_an_edit_through_a_web_worker_takes_effect_within_a_second(cluster: Cluster) -> None:
    s = create(cluster, 404, {"type": "cron", "expression": "0 0 1 1 *"})  # far away
    edits = []
    for i in range(3):  # whichever of the 4 web workers serves it
        at = datetime.now(UTC) + timedelta(seconds=1)
        r = cluster.api(
            "PATCH", f"/api/schedules/{s['id']}", json={"trigger": {"type": "date", "at": at.isoformat()}}
        )
        assert r.status_code == 200, r.text
        edits.append(at)
        wait_for(lambda n=i + 1: len(history(cluster, s["id"])) >= n, 10, 0.05, f"firing {i + 1}")
    fired = assert_exactly_once(cluster, s["id"], 404)
    assert len(fired) == 3
    for h, at in zip(fired, edits, strict=True):
        assert abs((t(h["due_at"]) - at).total_seconds()) < 0.002
        # the worker knew of the edit before its due time, one second after it was made
        assert (t(h["fired_at"]) - at).total_seconds() < 0.5, h
    delete(cluster, s["id"])
