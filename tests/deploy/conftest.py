"""Fixtures of the deploy tests: one host converged with every role (a leader-and-worker Pioreactor)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import ANSIBLE_DIR, Run, converge_playbook, local_vars, playbook, require, require_wheelhouse


class Site:
    """A temporary root converged by the broker, leader and unit_agent roles, and the first run's output."""

    def __init__(self, root: Path, work: Path, first: Run):
        self.root = root
        self.work = work
        self.first = first

    def converge(self, *args: str) -> Run:
        play = converge_playbook(self.work, "broker", "leader", "unit_agent")
        return playbook(play, "localhost,", local_vars(self.root), self.work, *args)


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    require("ansible-playbook", "mosquitto_passwd")  # the broker role hashes passwords with it
    require_wheelhouse()
    assert (ANSIBLE_DIR / "site.yml").exists()
    with tempfile.TemporaryDirectory(prefix="deploy-site-") as tmp:
        root, work = Path(tmp) / "root", Path(tmp) / "work"
        root.mkdir()
        site = Site(root, work, Run(0, ""))
        site.first = site.converge()
        assert site.first.rc == 0, site.first.output[-6000:]
        yield site
