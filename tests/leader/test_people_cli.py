"""`flask --app leader users …`, `setup …` and `tokens create --role` through Flask's CLI runner."""

from __future__ import annotations

import getpass
import time

from flask import Flask

from leader import setup
from leader.db import audit, connect, users
from leader.db import operations as ops_db
from leader.db import tokens as tokens_db


def test_users_commands(app: Flask) -> None:
    runner = app.test_cli_runner()
    db = connect(app.config["DATABASE"])
    assert not setup.is_complete(db)
    out = runner.invoke(args=["users", "create", "ada", "--role", "operator"], input="a long password\n" * 2)
    assert out.exit_code == 0 and "created ada (operator)" in out.output, out.output
    assert not setup.is_complete(db)  # only an admin completes setup
    weak = runner.invoke(args=["users", "create", "bob", "--password-stdin"], input="short\n")
    assert weak.exit_code != 0 and "Weak password" in weak.output
    same = runner.invoke(args=["users", "create", "carolcarol", "--password-stdin"], input="carolcarol\n")
    assert same.exit_code != 0 and "user name" in same.output
    bad = runner.invoke(args=["users", "create", "Bad Name", "--password-stdin"], input="a long password\n")
    assert bad.exit_code != 0 and "Invalid user name" in bad.output
    out = runner.invoke(
        args=["users", "create", "root", "--role", "admin", "--password-stdin"], input="root pass 123\n"
    )
    assert out.exit_code == 0, out.output
    assert setup.is_complete(db)
    assert (
        runner.invoke(args=["users", "create", "ada", "--password-stdin"], input="x" * 12 + "\n").exit_code
        != 0
    )

    listed = runner.invoke(args=["users", "list"]).output
    assert "ada\toperator\tlast sign-in never" in listed and "root\tadmin" in listed
    assert runner.invoke(args=["users", "set-role", "ada", "viewer"]).exit_code == 0
    assert users.get(db, "ada").role == "viewer"
    last = runner.invoke(args=["users", "set-role", "root", "operator"])
    assert last.exit_code != 0 and "last admin" in last.output
    assert runner.invoke(args=["users", "delete", "root"]).exit_code != 0
    before = users.find(db, "ada")["password_hash"]
    out = runner.invoke(
        args=["users", "set-password", "ada", "--password-stdin"], input="a new long password\n"
    )
    assert out.exit_code == 0 and users.find(db, "ada")["password_hash"] != before
    assert "a new long password" not in users.find(db, "ada")["password_hash"]
    assert (
        runner.invoke(args=["users", "set-password", "nobody", "--password-stdin"], input="x" * 12).exit_code
        != 0
    )
    assert runner.invoke(args=["users", "delete", "ada"]).exit_code == 0

    actions = [(e.action, e.target, e.actor) for e in audit.page(db).entries]
    me = f"cli:{getpass.getuser()}"
    for action, target in (
        ("user.create", "ada"),
        ("user.role", "ada"),
        ("user.password", "ada"),
        ("user.delete", "ada"),
    ):
        assert (action, target, me) in actions
    db.close()


def test_tokens_create_with_a_role_and_setup_commands(app: Flask) -> None:
    runner = app.test_cli_runner()
    db = connect(app.config["DATABASE"])
    out = runner.invoke(args=["tokens", "create", "reader", "--role", "viewer"])
    token = out.output.split(": ", 1)[1].strip()
    found = tokens_db.identify(db, token)
    assert found is not None and found.role == "viewer" and found.owner is None
    plain = runner.invoke(args=["tokens", "create", "ci"]).output.split(": ", 1)[1].strip()
    assert tokens_db.identify(db, plain).role == "admin"  # type: ignore[union-attr]
    assert runner.invoke(args=["tokens", "create", "x", "--role", "root"]).exit_code != 0

    assert runner.invoke(args=["setup", "status"]).output.strip() == "incomplete"
    code = runner.invoke(args=["setup", "code"]).output.strip()
    assert setup.code_matches(db, code) and setup.code_matches(db, code.lower().replace("-", ""))
    newer = runner.invoke(args=["setup", "code"]).output.strip()
    assert not setup.code_matches(db, code) and setup.code_matches(db, newer)
    setup.complete(db, "test")
    assert runner.invoke(args=["setup", "status"]).output.strip() == "complete"
    assert runner.invoke(args=["setup", "code"]).exit_code != 0
    db.close()


def test_setup_code_one_per_boot(app: Flask) -> None:
    """N workers of one start race to announce: one code, printed once; a new start gets a new one."""
    dbs = [connect(app.config["DATABASE"]) for _ in range(3)]
    printed = [setup.announce(db, "boot-1") for db in dbs]
    assert len([c for c in printed if c]) == 1
    again = setup.announce(dbs[0], "boot-2")
    assert again and again not in printed
    setup.complete(dbs[0], "test")
    assert setup.announce(dbs[1], "boot-3") is None
    for db in dbs:
        db.close()


def test_requested_by_unknown_for_old_rows_and_audit_pruned(app: Flask) -> None:
    db = connect(app.config["DATABASE"])
    old = ops_db.create(db, "job.start", {"experiment": "e", "job": "stirring"}, ["u1"], "api")
    assert old.requested_by == "unknown"
    assert ops_db.create(db, "job.stop", {}, ["u1"], "schedule", "schedule:7").requested_by == "schedule:7"
    audit.record(db, "cli:test", "user.create", "old")
    db.execute("UPDATE audit SET at = '2001-01-01T00:00:00.000Z' WHERE target = 'old'")
    audit.record(db, "cli:test", "user.create", "new")
    assert audit.prune(db, time.time() - 86400) == 1
    assert [e.target for e in audit.page(db).entries] == ["new"]
    db.close()
