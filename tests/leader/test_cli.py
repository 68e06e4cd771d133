"""`flask --app leader` commands through Flask's CLI runner, on a real store (and stand-in agents)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from devcluster.procs import free_port
from leader import cluster_token
from leader.db import connect
from leader.db import tokens as tokens_db
from tests.leader.conftest import make_app
from tests.leader.standin import StandIn


def test_init_db_units_and_tokens(app: Flask) -> None:
    runner = app.test_cli_runner()
    out = runner.invoke(args=["init-db"])
    assert out.exit_code == 0 and "up to date" in out.output
    assert (
        runner.invoke(args=["units", "add", "pio1", "--address", "10.0.0.1", "--port", "5000"]).exit_code == 0
    )
    assert runner.invoke(args=["units", "add", "pio1"]).exit_code != 0  # exists
    assert runner.invoke(args=["units", "add", "bad name"]).exit_code != 0
    listed = runner.invoke(args=["units", "list"]).output
    assert "pio1\t10.0.0.1:5000\tactive" in listed
    assert runner.invoke(args=["units", "remove", "pio1"]).exit_code == 0
    assert "pio1" not in runner.invoke(args=["units", "list"]).output

    created = runner.invoke(args=["tokens", "create", "ci"]).output
    token_id, token = created.split(":", 1)[0].split()[1], created.split(": ", 1)[1].strip()
    db = connect(app.config["DATABASE"])
    assert tokens_db.authenticate(db, token) == int(token_id)
    assert runner.invoke(args=["tokens", "revoke", token_id]).exit_code == 0
    assert tokens_db.authenticate(db, token) is None
    assert runner.invoke(args=["tokens", "revoke", token_id]).exit_code != 0


def test_cluster_token_rotate_pushes_before_switching(tmp_path: Path) -> None:
    app = make_app(tmp_path, OPERATION_DEADLINE=2.0)
    path = app.config["CLUSTER_TOKEN_FILE"]
    old = cluster_token.read(path)
    agents = [StandIn(f"pio{i}", old).start() for i in range(2)]
    try:
        runner = app.test_cli_runner()
        for a in agents:
            runner.invoke(args=["units", "add", a.unit, "--address", "127.0.0.1", "--port", str(a.port)])
        out = runner.invoke(args=["cluster-token", "rotate"])
        assert out.exit_code == 0, out.output
        new = cluster_token.read(path)
        assert new != old and all(a.token == new for a in agents)
        assert (Path(path).stat().st_mode & 0o777) == 0o600

        # a unit that cannot take the token: the leader keeps the current one
        runner.invoke(args=["units", "add", "gone", "--address", "127.0.0.1", "--port", str(free_port())])
        out = runner.invoke(args=["cluster-token", "rotate"])
        assert out.exit_code != 0 and "gone: FAILED" in out.output
        assert cluster_token.read(path) == new
    finally:
        for a in agents:
            a.stop()
