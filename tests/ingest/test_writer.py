"""The batch writer on a real SQLite store: the whole capture, dedupe, acks after commit, pruning."""

from __future__ import annotations

import sqlite3
import time

import pytest

from devcluster.procs import wait_for
from leader.db import audit, connect, job_states, logs, presence, readings
from leader.ingest.parse import Router
from leader.ingest.writer import BatchWriter, Message

from .conftest import capture_messages


def write_capture(db_path: str, router: Router) -> BatchWriter:
    writer = BatchWriter(lambda: connect(db_path), router)
    conn = connect(db_path)
    messages = capture_messages()
    for i in range(0, len(messages), 300):
        writer.write(conn, messages[i : i + 300])
    conn.close()
    return writer


def test_capture_lands_in_the_store(db_path: str, db: sqlite3.Connection, router: Router) -> None:
    writer = write_capture(db_path, router)
    assert writer.stats.malformed == 0
    n_logs = sum("/logs/" in m.topic for m in capture_messages())
    assert db.execute("SELECT count(*) FROM logs").fetchone()[0] == n_logs
    # the capture ends with every job disconnected; stirring went through sleeping and lost
    states = {(s.unit, s.job): s.state for s in job_states.states(db, "exp1")}
    assert states[("unit1", "stirring")] == "disconnected"
    seen = {r[0] for r in db.execute("SELECT to_state FROM job_state_transitions WHERE job = 'stirring'")}
    assert {"init", "ready", "sleeping", "disconnected", "lost"} <= seen
    assert job_states.running_jobs(db, "exp1") == []
    od = readings.buckets(db, "od", "exp1", "unit1", 1795236000, 1795238000, 1000)
    assert len(od) >= 10 and all(0.0 < row[1] < 1.0 for row in od)
    page = logs.page(db, experiment="exp1", min_level="error")
    assert page.logs and {e.level for e in page.logs} <= {"error", "critical"}
    # every unit that spoke live has a last_seen
    p = presence.presence_for(db, ["unit1", "nobody"])
    assert p["unit1"].last_seen is not None and p["unit1"].presence == "unknown"
    assert p["nobody"].presence == "unknown" and p["nobody"].last_seen is None


def test_redelivery_is_stored_once(db_path: str, db: sqlite3.Connection, router: Router) -> None:
    write_capture(db_path, router)
    write_capture(db_path, router)  # the broker delivered everything a second time
    n_logs = sum("/logs/" in m.topic for m in capture_messages())
    assert db.execute("SELECT count(*) FROM logs").fetchone()[0] == n_logs
    n_od = sum(m.topic.endswith("od_reading/od2") and bool(m.payload) for m in capture_messages())
    assert db.execute("SELECT count(*) FROM readings WHERE series = 'od'").fetchone()[0] == n_od


def test_log_without_own_timestamp_is_deduplicated_by_digest(db: sqlite3.Connection, router: Router) -> None:
    w = BatchWriter(lambda: db, router)
    body = b'{"message":"seq=1","level":"INFO"}'
    w.write(db, [Message("pioreactor/u1/e1/logs/app/info", body, 100.0)])
    w.write(db, [Message("pioreactor/u1/e1/logs/app/info", body, 160.0)])  # redelivered a minute later
    w.write(db, [Message("pioreactor/u1/e1/logs/app/info", b'{"message":"seq=2","level":"INFO"}', 160.0)])
    assert [r[0] for r in db.execute("SELECT message FROM logs ORDER BY ts")] == ["seq=1", "seq=2"]


def test_running_jobs_with_settings(db: sqlite3.Connection, db_path: str, router: Router) -> None:
    w = BatchWriter(lambda: connect(db_path), router)
    t = time.time()
    w.write(
        db,
        [
            Message("pioreactor/u1/e1/stirring/$state", b"init", t),
            Message("pioreactor/u1/e1/stirring/target_rpm", b"500.0", t),
            Message("pioreactor/u1/e1/stirring/$state", b"ready", t),
            Message("pioreactor/u2/e1/stirring/$state", b"lost", t),
            Message("pioreactor/u1/e2/stirring/$state", b"ready", t),
            Message("pioreactor/u1/e1/od_reading/$state", b"sleeping", t),
            Message("pioreactor/u1/$agent/presence", b"online", t, retained=True),
        ],
    )
    running = job_states.running_jobs(db, "e1")
    assert [(j.unit, j.job_name, j.state) for j in running] == [
        ("u1", "od_reading", "sleeping"),
        ("u1", "stirring", "ready"),
    ]
    assert running[1].settings == {"target_rpm": 500.0}
    # a job's lost is a job state; the agent's presence is separate
    p = presence.presence_for(db, ["u1", "u2"])
    assert p["u1"].presence == "online" and p["u1"].last_seen is not None
    assert p["u2"].presence == "unknown"
    w.write(db, [Message("pioreactor/u1/$agent/presence", b"lost", t + 1)])
    after = presence.presence_for(db, ["u1"])["u1"]
    assert (after.presence, after.status) == ("lost", "lost")  # a last will: vanished, no goodbye
    assert after.last_seen == p["u1"].last_seen  # a last will is the broker speaking, not the unit


def test_last_value_of_any_job_setting(db: sqlite3.Connection, db_path: str, router: Router) -> None:
    """Profiles look up any `<unit>:<job>:<setting>`: the last value of every topic, descriptor or not."""
    w = BatchWriter(lambda: connect(db_path), router)
    t = time.time()
    od = b'{"od": 0.81, "angle": "90"}'
    w.write(
        db,
        [
            Message("pioreactor/u1/e1/od_reading/od1", b'{"od": 0.5}', t),
            Message("pioreactor/u1/e1/od_reading/od1", od, t + 1),
            Message("pioreactor/u1/e1/my_plugin/level", b"high", t),
            Message("pioreactor/u1/e1/stirring/target_rpm", b"500", t),
            Message("pioreactor/u1/e1/stirring/$state", b"ready", t),
        ],
    )
    assert job_states.last_value(db, "u1", "e1", "od_reading", "od1") == {"od": 0.81, "angle": "90"}
    assert job_states.last_value(db, "u1", "e1", "my_plugin", "level") == "high"
    assert job_states.last_value(db, "u1", "e1", "stirring", "target_rpm") == 500
    assert job_states.last_value(db, "u1", "e1", "stirring", "$state") == "ready"
    # not in job_settings (running jobs, exports and events keep to the descriptors' settings)
    assert db.execute("SELECT count(*) FROM job_settings WHERE job = 'my_plugin'").fetchone()[0] == 0
    w.write(db, [Message("pioreactor/u1/e1/my_plugin/level", b"", t + 2)])  # cleared with its job
    with pytest.raises(LookupError):
        job_states.last_value(db, "u1", "e1", "my_plugin", "level")


def test_thread_acks_only_after_commit_and_counts_bad_input(db_path: str, router: Router) -> None:
    acked: list[int] = []
    conn = connect(db_path)

    def on_commit(batch: list[Message]) -> None:
        # every message handed over for acking is already committed
        stored = conn.execute("SELECT count(*) FROM logs").fetchone()[0]
        assert stored >= sum(1 for m in batch if m.ack and m.ack[0] < 200) + len(
            [a for a in acked if a < 200]
        )
        acked.extend(m.ack[0] for m in batch if m.ack)

    writer = BatchWriter(
        lambda: connect(db_path), router, batch_size=50, flush_interval=0.02, on_commit=on_commit
    ).start()
    try:
        payload = '{{"message":"m{}","level":"INFO","task":"t","timestamp":""}}'
        topic = "pioreactor/u1/e1/logs/app/info"
        for i in range(200):
            writer.put(Message(topic, payload.format(i).encode(), 1000.0 + i, ack=(i, 1, 0)))
        writer.put(Message(topic, b"garbage", 1.0, ack=(200, 1, 0)))
        writer.put(Message("pioreactor/u1/e1/x/y/z", b"{}", 1.0, ack=(201, 1, 0)))
        wait_for(lambda: len(acked) == 202, 20, what="acks")
        # acked in arrival order; bad input is acked too (it is counted, not retried forever)
        assert acked == list(range(202))
        assert conn.execute("SELECT count(*) FROM logs").fetchone()[0] == 200
        assert writer.stats.malformed == 1 and writer.stats.unknown == 1 and writer.stats.batches >= 4
    finally:
        writer.stop()
        conn.close()


def test_the_writer_thread_prunes_by_retention(db: sqlite3.Connection, db_path: str, router: Router) -> None:
    old = time.time() - 3 * 86400
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(old))
    body = f'{{"message":"old","level":"INFO","timestamp":"{stamp}"}}'
    BatchWriter(lambda: db, router).write(db, [Message("pioreactor/u1/e1/logs/app/info", body.encode(), old)])
    writer = BatchWriter(lambda: connect(db_path), router, retention_days=1).start()
    try:
        wait_for(
            lambda: db.execute("SELECT count(*) FROM logs").fetchone()[0] == 0, 10, what="old logs pruned"
        )
    finally:
        writer.stop()


def test_pruning_respects_retention(db: sqlite3.Connection, db_path: str, router: Router) -> None:
    w = BatchWriter(lambda: connect(db_path), router, retention_days=1)
    now = time.time()
    old, new = now - 3 * 86400, now - 3600
    msgs = [
        Message("pioreactor/u1/e1/logs/app/info", f'{{"message":"{i}","level":"INFO"}}'.encode(), ts)
        for i, ts in enumerate([old, new])
    ] + [
        Message("pioreactor/u1/e1/od_reading/od2", f'{{"od":0.5,"timestamp":"{iso}"}}'.encode(), 0)
        for iso in (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) for t in (old, new))
    ]
    w.write(db, msgs)
    # the audit trail is kept as long as the logs (the design's "retained with the logs' retention")
    for target, ts in (("old", old), ("new", new)):
        audit.record(db, "cli:test", "user.create", target)
        at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))
        db.execute("UPDATE audit SET at = ? WHERE target = ?", (at, target))
    w.prune(db, now - 86400)
    assert [r[0] for r in db.execute("SELECT message FROM logs")] == ["1"]
    assert db.execute("SELECT count(*) FROM readings").fetchone()[0] == 1
    assert [r[0] for r in db.execute("SELECT target FROM audit")] == ["new"]


def test_a_row_the_store_refuses_does_not_block_the_others(db_path: str, router: Router) -> None:
    conn = connect(db_path)
    conn.execute(
        "CREATE TRIGGER poison BEFORE INSERT ON logs WHEN NEW.message = 'poison' "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    acked: list[int] = []
    writer = BatchWriter(
        lambda: connect(db_path), router, on_commit=lambda b: acked.extend(m.ack[0] for m in b if m.ack)
    ).start()
    try:
        for i, text in enumerate(["a", "poison", "b"]):
            body = f'{{"message":"{text}","level":"INFO","timestamp":"2026-01-01T00:00:0{i}Z"}}'.encode()
            writer.put(Message("pioreactor/u1/e1/logs/app/info", body, 1.0, ack=(i, 1, 0)))
        wait_for(lambda: len(acked) == 3, 20, what="all three acked")
        assert [r[0] for r in conn.execute("SELECT message FROM logs ORDER BY ts")] == ["a", "b"]
        assert writer.stats.malformed == 1
    finally:
        writer.stop()
        conn.close()


def test_retained_online_presence_dates_last_seen(
    db: sqlite3.Connection, db_path: str, router: Router
) -> None:
    """A leader starting after its agents sees only their retained `online`: its timestamp is a sighting."""
    w = BatchWriter(lambda: connect(db_path), router)
    stamped = b'{"status":"online","unit":"u1","timestamp":"2026-11-21T04:49:19.895Z"}'
    w.write(db, [Message("pioreactor/u1/$agent/presence", stamped, time.time(), retained=True)])
    p = presence.presence_for(db, ["u1"])["u1"]
    assert (p.presence, p.last_seen) == ("online", "2026-11-21T04:49:19.895Z")
    # a retained bare `online` (no timestamp) still says nothing about when
    w.write(db, [Message("pioreactor/u2/$agent/presence", b"online", time.time(), retained=True)])
    assert presence.presence_for(db, ["u2"])["u2"].last_seen is None


def test_retention_never_prunes_an_experiment_with_units_assigned(
    db: sqlite3.Connection, db_path: str, router: Router
) -> None:
    w = BatchWriter(lambda: connect(db_path), router, retention_days=1)
    old = time.time() - 3 * 86400
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(old))
    msgs = [
        m
        for exp in ("running", "finished")
        for m in (
            Message(
                f"pioreactor/u1/{exp}/logs/app/info", f'{{"message":"{exp}","level":"INFO"}}'.encode(), old
            ),
            Message(f"pioreactor/u1/{exp}/od_reading/od2", f'{{"od":0.5,"timestamp":"{stamp}"}}'.encode(), 0),
        )
    ]
    w.write(db, msgs)
    db.execute("INSERT INTO units (name, address, port, added_at) VALUES ('u1', 'u1', 4999, 'now')")
    db.execute("INSERT INTO units (name, address, port, added_at) VALUES ('u2', 'u2', 4999, 'now')")
    for exp in ("running", "finished"):
        db.execute("INSERT INTO experiments (name, created_at) VALUES (?, 'now')", (exp,))
    db.execute("INSERT INTO assignments (unit, experiment, assigned_at) VALUES ('u1', 'running', 'then')")
    # an experiment whose units were all unassigned ages out as before
    db.execute(
        "INSERT INTO assignments (unit, experiment, assigned_at, unassigned_at) "
        "VALUES ('u2', 'finished', 'then', 'later')"
    )
    w.prune(db, time.time() - 86400)
    assert [r[0] for r in db.execute("SELECT experiment FROM logs")] == ["running"]
    assert [r[0] for r in db.execute("SELECT DISTINCT experiment FROM readings")] == ["running"]
    assert {r[0] for r in db.execute("SELECT DISTINCT experiment FROM readings_minutes")} <= {"running"}

    db.execute("UPDATE assignments SET unassigned_at = 'now' WHERE experiment = 'running'")
    w.prune(db, time.time() - 86400)  # once its units leave, the retention applies to it too
    assert db.execute("SELECT count(*) FROM logs").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM readings").fetchone()[0] == 0
