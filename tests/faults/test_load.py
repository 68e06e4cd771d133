"""bench/load.py reduced: 10 s of 50 /api requests/s (five users, tokens and sessions, reads and writes),
1,000 MQTT messages/s and 20 open SSE streams on one leader. No "database is locked" anywhere, no answer
>= 500, every acknowledged message stored, every stream open. The figures are bench/load.py's to print.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(not shutil.which("mosquitto_pub"), reason="needs mosquitto_pub (mosquitto-clients)"),
]


def _bench() -> ModuleType:
    sys.path.insert(0, str(REPO / "bench"))
    spec = importlib.util.spec_from_file_location("bench_load", REPO / "bench" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_mixed_load_no_lock_errors_no_server_errors_nothing_lost(tmp_path: Path) -> None:
    load = _bench()
    res = load.run(tmp_path / "cluster", seconds=10, rate=50, msgs=1000, streams=20)
    summary = f"statuses {res.statuses}, errors {res.errors[:5]}"
    assert res.locked == 0, summary
    assert res.server_errors == 0, summary
    assert res.requests == 500, summary
    assert all(s < 500 and s not in (401, 403) for s in res.statuses), summary
    assert res.streams_open == 20
    # every log the publisher sent was acknowledged by the broker (mosquitto_pub exited) and stored
    assert res.published > 5000 and res.stored == res.published, (res.stored, res.published)
    assert res.readings_stored == res.readings_published, (res.readings_stored, res.readings_published)
