"""mosquitto started from the files the broker role renders (password file made by mosquitto_passwd, ACL):
a unit publishes under its own name, cannot under another unit's (seen from the leader's subscription,
since an MQTT 3.1.1 publisher is never told), and a wrong password is refused."""

from __future__ import annotations

import pwd
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from paho.mqtt import client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devcluster.procs import Proc, free_port, port_open, wait_for

from .harness import playbook, require

pytestmark = pytest.mark.deploy

ACCOUNTS = {
    "leader": "broker-leader-Q9w8e7r6",
    "pio01": "broker-pio01-A1s2d3f4",
    "pio02": "broker-pio02-Z5x6c7v8",
}


class Client:
    """A paho client that records its CONNACK and every message it receives."""

    def __init__(self, port: int, user: str, password: str):
        self.connected = threading.Event()
        self.reason: mqtt.ReasonCode | None = None
        self.messages: list[tuple[str, bytes]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{user}-{uuid.uuid4().hex[:6]}")
        self.client.username_pw_set(user, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, msg: self.messages.append((msg.topic, msg.payload))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        wait_for(self.connected.is_set, 10, what=f"CONNACK for {user}")

    def _on_connect(self, _c: object, _u: object, _f: object, reason: mqtt.ReasonCode, _p: object) -> None:
        self.reason = reason
        self.connected.set()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture(scope="module")
def broker() -> Iterator[int]:
    require("ansible-playbook", "mosquitto", "mosquitto_passwd")
    if not shutil.which("mosquitto") or not _user_exists("mosquitto"):
        pytest.skip("no `mosquitto` user on this machine (mosquitto's package creates it)")
    # mosquitto drops from root to its own user before reading its files: every folder on the way must be
    # traversable, which pytest's private temporary folders are not.
    with tempfile.TemporaryDirectory(prefix="deploy-broker-") as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        port = free_port()
        play = base / "broker.yml"
        play.write_text("---\n- name: Broker\n  hosts: all\n  roles:\n    - role: broker\n")
        vars_ = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            # every path of the role pointed into the temporary folder (the root stays "/")
            "broker_manage_services": False,
            "broker_conf_dir": f"{base}/etc/mosquitto",
            "broker_persistence_dir": f"{base}/var/lib/mosquitto",
            "broker_systemd_dir": f"{base}/etc/systemd/system",
            "broker_listen_address": "127.0.0.1",
            "broker_port": port,
            "broker_passwords": ACCOUNTS,
        }
        for parent in ("etc", "var", "var/lib"):
            (base / parent).mkdir(mode=0o755, exist_ok=True)
        run = playbook(play, "localhost,", vars_, base / "work")
        assert run.rc == 0, run.output[-4000:]
        for secret in ACCOUNTS.values():
            assert secret not in run.output
        proc = Proc(["mosquitto", "-c", f"{base}/etc/mosquitto/mosquitto.conf"], base / "mosquitto.log")
        try:
            wait_for(lambda: port_open("127.0.0.1", port) or not proc.alive(), 10, what="mosquitto")
            assert proc.alive(), proc.output()
            yield port
        finally:
            proc.stop()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def test_a_unit_writes_only_under_its_own_name(broker: int) -> None:
    leader = Client(broker, "leader", ACCOUNTS["leader"])
    unit = Client(broker, "pio01", ACCOUNTS["pio01"])
    try:
        assert leader.reason is not None and not leader.reason.is_failure
        assert unit.reason is not None and not unit.reason.is_failure
        leader.client.subscribe("pioreactor/#", qos=1)
        # the subscription is in place once the leader hears itself
        leader.client.publish("pioreactor/leader/probe", b"probe", qos=1)
        wait_for(lambda: any(p == b"probe" for _t, p in leader.messages), 10, what="the subscription")
        unit.client.publish("pioreactor/pio01/exp1/od_reading/od1", b"own", qos=1).wait_for_publish(5)
        unit.client.publish("pioreactor/pio02/exp1/stirring/$state/set", b"cross", qos=1).wait_for_publish(5)
        unit.client.publish("pioreactor/pio01/exp1/done", b"end", qos=1).wait_for_publish(5)
        # QoS 1 from one publisher arrives in order: once `end` is here, `cross` would have been too
        wait_for(lambda: any(p == b"end" for _t, p in leader.messages), 10, what="the last message")
        payloads = [p for _t, p in leader.messages]
        assert b"own" in payloads and b"cross" not in payloads
        # the leader itself may write under any unit (settings, commands)
        leader.client.publish("pioreactor/pio02/exp1/stirring/$state/set", b"from-leader", qos=1)
        wait_for(lambda: any(p == b"from-leader" for _t, p in leader.messages), 10, what="leader's message")
    finally:
        leader.close()
        unit.close()


def test_a_wrong_password_is_refused(broker: int) -> None:
    intruder = Client(broker, "pio01", ACCOUNTS["pio02"])
    try:
        assert intruder.reason is not None and intruder.reason.is_failure
    finally:
        intruder.close()
    stranger = Client(broker, "nobody", "whatever-password")
    try:
        assert stranger.reason is not None and stranger.reason.is_failure
    finally:
        stranger.close()
