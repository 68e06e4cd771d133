"""Exactly-once storage through failures: the ingest killed mid-stream, the broker restarted mid-stream.

Real processes: mosquitto (persistent), `python -m leader.ingest` (the ingest alone, as the worker runs
it), a paho publisher sending QoS-1 logs that each carry a unique sequence number.
"""

from __future__ import annotations

import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devcluster.broker import Broker
from devcluster.procs import Proc, wait_for
from leader.db.migrate import init_db

N = 10_000
FIRST = 8_000  # published before the kill; the rest while the ingest is down
TOPIC = "pioreactor/unit{}/exp1/logs/app/info"


def payload(seq: int, stamped: bool) -> str:
    """pio stamps every log; a publisher that does not is covered too (the digest alone is the key)."""
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()) if stamped else ""
    return f'{{"source":"app","task":"stirring","message":"seq={seq}","level":"INFO","timestamp":"{ts}"}}'


def counts(db_path: str) -> tuple[int, int]:
    """(rows, distinct sequence numbers) of the test's log lines."""
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        return conn.execute(
            "SELECT count(*), count(DISTINCT message) FROM logs WHERE message LIKE 'seq=%'"
        ).fetchone()
    except sqlite3.OperationalError:  # the store is not created yet
        return (0, 0)
    finally:
        conn.close()


class Publisher:
    """A QoS-1 publisher with a persistent session: it resends what the broker did not ack."""

    def __init__(self, broker: Broker, name: str) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, clean_session=False)
        self.client.max_inflight_messages_set(0)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def publish(self, seqs: range, stamped: bool = True) -> None:
        for seq in seqs:
            self.client.publish(TOPIC.format(seq % 5), payload(seq, stamped), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Ingest:
    def __init__(self, tmp: Path, broker: Broker, client_id: str) -> None:
        self.tmp, self.db = tmp, str(tmp / "leader.sqlite")
        self.env = {
            "APP_ENV": "production",
            "LEADER_SECRET_KEY": "test-" + "k" * 40,
            "LEADER_INSTANCE_PATH": str(tmp),
            "LEADER_DATABASE": self.db,
            "LEADER_MQTT_URL": broker.url,
            "LEADER_INGEST_CLIENT_ID": client_id,
        }
        init_db(self.db)  # as the leader worker does before it starts the ingest
        self.procs: list[Proc] = []

    def start(self) -> Proc:
        proc = Proc([sys.executable, "-m", "leader.ingest"], self.tmp / "ingest.log", env=self.env)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()


@pytest.fixture
def ingest(tmp_path: Path, fresh_broker: Broker, request: pytest.FixtureRequest) -> Iterator[Ingest]:
    ing = Ingest(tmp_path, fresh_broker, f"ingest-{request.node.name[:40]}")
    try:
        yield ing
    finally:
        ing.stop()


def probes(db_path: str) -> int:
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        return int(conn.execute("SELECT count(*) FROM logs WHERE message = 'probe'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def subscribed(ingest: Ingest, broker: Broker) -> None:
    """Wait until the ingest's subscriptions exist: a probe log published now is stored."""
    probe = Publisher(broker, f"probe-{id(ingest)}")

    def stored() -> bool:
        probe.client.publish(TOPIC.format(0), '{"message":"probe","level":"INFO"}', qos=1)
        return probes(ingest.db) > 0

    try:
        wait_for(stored, 20, 0.1, what="a probe log stored")
    finally:
        probe.close()


def test_ingest_killed_mid_stream_stores_every_message_once(ingest: Ingest, fresh_broker: Broker) -> None:
    first = ingest.start()
    subscribed(ingest, fresh_broker)
    pub = Publisher(fresh_broker, "pub-kill")
    try:
        pub.publish(range(FIRST), stamped=False)
        wait_for(lambda: counts(ingest.db)[0] > 0, 20, 0.005, what="ingest under way")
        first.kill(signal.SIGKILL)  # mid-stream: batches queued, some committed but not yet acked
        first.popen.wait(5)
        stored_at_kill = counts(ingest.db)[0]
        pub.publish(
            range(FIRST, N), stamped=False
        )  # published while the ingest is down: the broker queues them
        ingest.start()
        wait_for(lambda: counts(ingest.db)[1] >= N, 60, 0.1, what=f"{N} sequence numbers stored")
    finally:
        pub.close()
    rows, distinct = counts(ingest.db)
    assert stored_at_kill < FIRST, "the kill came after everything was stored: not mid-stream"
    assert rows == distinct == N


def test_ingest_started_before_the_broker_connects_when_it_comes(
    tmp_path: Path, fresh_broker: Broker
) -> None:
    fresh_broker.stop()
    ing = Ingest(tmp_path, fresh_broker, "ingest-early")
    ing.env.pop("LEADER_INGEST_CLIENT_ID")  # the default id, derived from the store's path
    try:
        proc = ing.start()
        wait_for(lambda: "cannot reach the broker" in proc.output(), 15, 0.05, what="a failed first attempt")
        fresh_broker.start()
        subscribed(ing, fresh_broker)
        assert proc.alive()
    finally:
        ing.stop()


def test_broker_restart_mid_stream_stores_every_message_once(ingest: Ingest, fresh_broker: Broker) -> None:
    ingest.start()
    subscribed(ingest, fresh_broker)
    pub = Publisher(fresh_broker, "pub-restart")
    sender = threading.Thread(target=pub.publish, args=(range(N),))
    try:
        sender.start()
        wait_for(lambda: counts(ingest.db)[0] > 1000, 20, 0.01, what="ingest under way")
        fresh_broker.restart()  # persistent sessions and queued messages survive; clients reconnect
        sender.join(30)
        wait_for(lambda: counts(ingest.db)[1] >= N, 60, 0.1, what=f"{N} sequence numbers stored")
    finally:
        pub.close()
    rows, distinct = counts(ingest.db)
    assert rows == distinct == N
