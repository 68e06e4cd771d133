"""docs/configuration.md and the route tables of docs/wire-contract.md match the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_generated_docs_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "docs/gen.py"), "--check"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
