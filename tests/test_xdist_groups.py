"""`make test` runs `-n 2 --dist loadgroup`: the tests of one `xdist_group` must all run on one worker (a
module's cluster started once; a build directory used by one test at a time). tests/conftest.py keeps this
working with pytest 9.2, where pytest-xdist 3.8's own marking of groups has no effect."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

GROUPED = """
import os
import pytest

pytestmark = pytest.mark.xdist_group("together")


@pytest.mark.parametrize("n", range(6))
def test_grouped(n):
    with open(os.environ["WORKERS_FILE"], "a") as out:
        out.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
"""


def test_a_groups_tests_all_run_on_one_worker(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "conftest.py").write_text((REPO / "tests" / "conftest.py").read_text())
    (tests / "test_grouped.py").write_text(GROUPED)
    workers = tmp_path / "workers.txt"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-c",
            os.devnull,
            "--rootdir",
            str(tmp_path),
            str(tests),
        ],
        cwd=REPO,
        env={**os.environ, "WORKERS_FILE": str(workers)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ran = workers.read_text().split()
    assert len(ran) == 6 and len(set(ran)) == 1, ran
