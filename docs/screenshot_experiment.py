"""Takes docs/experiment.png: the experiment page of a demo cluster (two pio-sim units) with stirring, OD
reading and growth rate running, and a night of earlier readings in the store so the charts show a
culture's growth rather than a minute of flat line. The README shows the result.

    .venv/bin/python docs/screenshot_experiment.py       # about a minute
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devcluster.browser import admin_page  # noqa: E402
from devcluster.cluster import Cluster  # noqa: E402
from devcluster.store_fill import add_readings  # noqa: E402
from leader.db import connect, transaction  # noqa: E402

EXP = "glucose-run"
HOURS = 10.0
LABELS = {"unit1": "reactor A", "unit2": "reactor B"}


def iso(t: float) -> str:
    """The store's time format (leader.db.now)."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def latest_od(cluster: Cluster, unit: str) -> tuple[float, float] | None:
    r = cluster.api(
        "GET", f"/api/experiments/{EXP}/time_series/od", params={"units": unit, "since": time.time() - 600}
    )
    # a short window: readings come back as read, not in buckets
    rows = r.json()["units"].get(unit) or []
    return (rows[0][0], rows[0][1]) if rows else None


def history(db_path: str, firsts: dict[str, tuple[float, float]]) -> None:
    """Logistic growth ending at each unit's first live OD reading, readings every 5 s, as the ingest would
    have stored them."""
    db = connect(db_path)
    try:
        for u, (unit, (t_end, od_end)) in enumerate(firsts.items()):
            rows = []
            n = int(HOURS * 3600 / 5)
            rate = 0.55 + 0.1 * u  # per hour
            lag = 2.0 + u
            for i in range(n):
                t = t_end - (n - i) * 5
                h = (t - (t_end - HOURS * 3600)) / 3600
                growth = 1 / (1 + math.exp(-rate * (h - lag - 4)))
                noise = 0.0006 * math.sin(i * 1.7) * math.cos(i * 0.31)
                od = od_end * (0.35 + 0.65 * growth / (1 / (1 + math.exp(-rate * (HOURS - lag - 4))))) + noise
                gr = rate * growth * (1 - growth) * 4 * 0.25 + noise
                temp = 30.0 + 0.15 * math.sin(i / 900 + u) + noise * 5
                rows += [("od", EXP, unit, t, od), ("growth_rate", EXP, unit, t, gr)]
                rows += [
                    ("normalized_od", EXP, unit, t, od / (od_end * 0.35)),
                    ("temperature", EXP, unit, t, temp),
                ]
            with transaction(db):
                # the experiment "began" with its history: a chart's window never reaches before its start
                db.execute(
                    "UPDATE experiments SET created_at = ? WHERE name = ?",
                    (iso(t_end - HOURS * 3600 - 60), EXP),
                )
                add_readings(db, rows)
    finally:
        db.close()


def start(cluster: Cluster, job: str, options: dict[str, object] | None = None) -> None:
    r = cluster.api("POST", f"/api/experiments/{EXP}/jobs/{job}/start", json={"options": options or {}})
    assert r.status_code in (200, 202), r.text


def wait(check: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="shot-exp-") as work:
        cluster = Cluster(Path(work), units=2, app_env="development")
        cluster.start()
        try:
            r = cluster.api(
                "POST", "/api/experiments", json={"name": EXP, "description": "E. coli in M9 + glucose"}
            )
            assert r.status_code == 201, r.text
            assert cluster.api("PUT", f"/api/experiments/{EXP}/units", json={"units": list(LABELS)}).ok
            for unit, label in LABELS.items():
                assert cluster.api(
                    "PUT", f"/api/experiments/{EXP}/units/{unit}/label", json={"label": label}
                ).ok
            start(cluster, "stirring", {"target_rpm": 500})
            start(cluster, "od_reading")
            wait(lambda: all(latest_od(cluster, u) for u in LABELS), "the first OD readings")
            start(cluster, "growth_rate_calculating")
            history(str(cluster.leader_dir / "leader.sqlite"), {u: latest_od(cluster, u) for u in LABELS})  # type: ignore[misc]
            with sync_playwright() as pw:
                browser, page = admin_page(pw, cluster)
                page.goto(f"{cluster.leader_url}/experiments/{EXP}")
                page.get_by_role("button", name="12 h").click()
                for key in ("od", "growth_rate", "normalized_od", "temperature"):
                    # a chart counts the points it draws: the 10 h of history, then live ones
                    page.wait_for_function(
                        f"() => Number(document.querySelector('[data-chart=\"{key}\"]').dataset.points)"
                        " > 100",
                        timeout=60_000,
                    )
                page.wait_for_timeout(6_000)  # a few live readings on the cards and charts
                # down to the charts: the recent logs below would make it a long strip of table
                height = page.evaluate(
                    "() => document.querySelector('#charts').getBoundingClientRect().bottom"
                    " + window.scrollY + 16"
                )
                page.screenshot(
                    path=str(REPO / "docs/experiment.png"),
                    clip={"x": 0, "y": 0, "width": 1440, "height": height},
                    full_page=True,
                )
                browser.close()
        finally:
            cluster.stop()
    print("wrote docs/experiment.png")


if __name__ == "__main__":
    main()
