"""`flask backup` under load, `flask restore`, and the leader starting on the restored store."""

from __future__ import annotations

from pathlib import Path

from devcluster.procs import wait_for
from devcluster.store_fill import leader_app
from leader import backups
from leader.db import get_db

from .test_durability import acking_writer, seqs


def test_backup_under_load_restores_and_the_leader_starts_on_it(tmp_path: Path) -> None:
    source = leader_app(tmp_path / "a")  # migrates the store the writer loads
    copy = tmp_path / "nightly.sqlite"
    with acking_writer(source.config["DATABASE"]) as acked:
        wait_for(lambda: acked[0] >= 1000, 30, 0.01, what="1000 messages stored")
        before = acked[0]
        result = source.test_cli_runner().invoke(args=["backup", "--to", str(copy)])
        assert result.exit_code == 0, result.output
        wait_for(lambda: acked[0] >= before + 1000, 30, 0.01, what="the writer still running after it")
    in_backup = seqs(copy)  # integrity_check = ok inside
    assert set(range(before + 1)) <= in_backup
    assert in_backup == set(range(max(in_backup) + 1)), "a backup is one instant: no gaps"

    target = leader_app(tmp_path / "b")
    runner = target.test_cli_runner()
    refused = runner.invoke(args=["restore", str(copy)])
    assert refused.exit_code != 0 and "--force" in refused.output
    restored = runner.invoke(args=["restore", str(copy), "--force"])
    assert restored.exit_code == 0, restored.output
    assert list((tmp_path / "b" / "backups").glob("pre-restore-*.sqlite")), "the replaced store is kept"

    leader = leader_app(tmp_path / "b")  # starts on the restored store
    with leader.app_context():
        rows = get_db().execute("SELECT count(*) FROM logs WHERE message LIKE 'seq=%'").fetchone()[0]
    assert rows == len(in_backup)


def test_backups_in_the_folder_keep_the_newest(tmp_path: Path) -> None:
    app = leader_app(tmp_path)
    folder = app.config["BACKUP_DIR"]
    taken = [backups.take(app.config["DATABASE"], folder, keep=2) for _ in range(4)]
    assert backups.listing(folder) == sorted(taken[-2:], reverse=True)


def test_restore_refuses_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    app = leader_app(tmp_path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database" * 100)
    result = app.test_cli_runner().invoke(args=["restore", str(junk), "--force"])
    assert result.exit_code != 0 and "not a store" in result.output
