"""deploy/grafana: the dashboard is valid JSON and every metric it queries is one the services expose."""

from __future__ import annotations

import json
import re

from tests.conftest import REPO

DASHBOARD = REPO / "deploy/grafana/pioreactor-cluster.json"


def test_dashboard_queries_only_metrics_we_expose() -> None:
    dash = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dash["templating"]["list"]]
    assert len(exprs) > 20
    source = "".join(
        p.read_text() for root in ("leader/src", "unit_agent/src") for p in (REPO / root).rglob("*.py")
    )
    names = {
        re.sub(r"_(bucket|sum|count|total)$", "", n) for e in exprs for n in re.findall(r"pioreactor_\w+", e)
    }
    missing = sorted(n for n in names if f'"{n}"' not in source)
    assert not missing, f"the dashboard queries metrics nobody exposes: {missing}"
    assert all(p["datasource"]["uid"] == "${DS_PROMETHEUS}" for p in dash["panels"] if "datasource" in p)
