"""Alerts and metrics with real processes: broker, leader web (gunicorn) and worker, two agents on pio-sim.

An agent stopped → an alert reaches a local webhook and a local SMTP server (a failing webhook is retried
and each attempt recorded, a hanging one holds up nothing); the agent back → resolved. A temperature
published over MQTT above a threshold fires once, after its hold time.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client.parser import text_string_to_metric_families

from devcluster.broker import Broker
from devcluster.cluster import Cluster
from devcluster.procs import wait_for
from tests.alert_receivers import SmtpServer, Webhook

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("alerts_cluster"), pytest.mark.timeout(180)]

SETTINGS = {
    "ALERTS_INTERVAL": 0.2,
    "ALERTS_RETRY_BASE": 0.2,
    "ALERTS_RETRY_MAX": 0.5,
    "ALERTS_SEND_TIMEOUT": 1.5,
    "ALERTS_MAX_ATTEMPTS": 5,
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mqtt_broker: Broker) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("alerts"), units=2, broker=mqtt_broker, leader_settings=SETTINGS)
    c.start()
    try:
        assert c.api("POST", "/api/experiments", json={"name": "exp"}).status_code == 201
        yield c
    finally:
        c.stop()


def _alerts(cluster: Cluster, **query: str) -> list[dict[str, Any]]:
    r = cluster.api("GET", "/api/alerts", params=query)
    assert r.status_code == 200, r.text
    return list(r.json())


def _presence(cluster: Cluster) -> dict[str, str]:
    return {u["name"]: u["presence"] for u in cluster.api("GET", "/api/units").json()}


def _metrics(cluster: Cluster) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    r = cluster.api("GET", "/metrics")
    assert r.status_code == 200, r.text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for f in text_string_to_metric_families(r.text)
        for s in f.samples
    }


def test_stopped_agent_alerts_by_webhook_and_email_then_resolves(cluster: Cluster) -> None:
    wait_for(lambda: set(_presence(cluster).values()) == {"online"}, 20, 0.1, "units online")
    r = cluster.api("PATCH", "/api/alerts/rules/builtin", json={"unit_offline_after_s": 1})
    assert r.status_code == 200, r.text
    with Webhook() as good, Webhook() as failing, Webhook() as stuck, SmtpServer() as smtp:
        failing.status = 500
        stuck.hang = True
        channels = {
            "webhooks": [{"url": stuck.url}, {"url": failing.url}, {"url": good.url}],
            "email": {"host": "127.0.0.1", "port": smtp.port, "from": "lab@x.org", "to": ["ops@x.org"]},
        }
        assert cluster.api("PUT", "/api/alerts/channels", json=channels).status_code == 200

        agent = cluster.agents[1]
        stopped_at = time.monotonic()
        agent.stop()
        wait_for(lambda: _presence(cluster)[agent.name] == "offline", 15, 0.1, "the unit offline")
        fired = good.wait_for(lambda b: [x for x in b if x["event"] == "fired"], 20)[0]["alert"]
        assert fired["kind"] == "unit_offline" and fired["details"]["unit"] == agent.name
        assert time.monotonic() - stopped_at >= 1.0  # not before the set time
        mail = wait_for(smtp.received, 10, 0.05, "the alert e-mail")[0]
        assert "FIRING" in mail["Subject"] and agent.name in mail["Subject"]
        assert smtp.envelopes[0] == ("lab@x.org", ["ops@x.org"])
        failing.wait_for(lambda b: len(b) >= 3, 15)  # retried with backoff

        found = _metrics(cluster)
        assert found[("pioreactor_units", frozenset({("presence", "offline")}))] == 1
        assert found[("pioreactor_alerts_open", frozenset({("kind", "unit_offline")}))] == 1

        agent.start_web()
        agent.start_worker()
        wait_for(agent.ready, 30, 0.1, "the agent back")
        good.wait_for(lambda b: [x for x in b if x["event"] == "resolved"], 20)
        wait_for(lambda: len(smtp.received()) >= 2, 10, 0.05, "the resolved e-mail")
        assert "RESOLVED" in smtp.received()[1]["Subject"]

        def stuck_timed_out() -> list[str]:
            [a] = _alerts(cluster, kind="unit_offline")
            reasons = [
                t["reason"] for d in a["deliveries"] if d["target"] == stuck.shown for t in d["attempts"]
            ]
            return reasons if any("timed out" in r for r in reasons) else []

        wait_for(stuck_timed_out, 15, 0.1, "the hanging webhook's attempt recorded as timed out")
        stuck.hang = False

    [alert] = _alerts(cluster, kind="unit_offline")
    assert alert["resolved_at"] is not None and alert["details"]["unit"] == agent.name
    by_target = {(d["event"], d["target"]): d for d in alert["deliveries"]}
    assert by_target[("fired", good.shown)]["status"] == "delivered"
    assert by_target[("resolved", good.shown)]["status"] == "delivered"
    retried = by_target[("fired", failing.shown)]
    assert len(retried["attempts"]) >= 3
    # attempts after the receiver closed (end of the `with`) fail to connect; those before it answered 500
    answered = [a for a in retried["attempts"] if a["status_code"] is not None]
    assert len(answered) >= 3
    assert all(a["status_code"] == 500 and a["reason"].startswith("HTTP 500") for a in answered)
    times = [a["at"] for a in retried["attempts"]]
    assert times == sorted(times)
    assert sum(d["event"] == "fired" and d["channel"] == "email" for d in alert["deliveries"]) == 1
    cluster.api("PUT", "/api/alerts/channels", json={})


def test_temperature_threshold_fires_once_after_its_hold_time(cluster: Cluster) -> None:
    hold = 2.0
    rule = {"experiment": "exp", "series": "temperature", "op": ">", "value": 40, "hold_seconds": hold}
    r = cluster.api("POST", "/api/alerts/rules", json=rule)
    assert r.status_code == 201, r.text
    assert cluster.broker is not None
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-temp-{secrets.token_hex(3)}")
    client.connect(cluster.broker.host, cluster.broker.port)
    client.loop_start()
    unit = cluster.agents[0].name
    topic = f"pioreactor/{unit}/exp/temperature_automation/temperature"
    try:
        client.publish(topic, json.dumps({"temperature": 45.5}), qos=1).wait_for_publish(
            5
        )  # one noisy reading
        client.publish(topic, json.dumps({"temperature": 37.0}), qos=1).wait_for_publish(5)
        first_hot = time.time()
        deadline = time.monotonic() + hold + 4
        fired_at = None
        while time.monotonic() < deadline:
            client.publish(topic, json.dumps({"temperature": 41.0}), qos=1).wait_for_publish(5)
            found = _alerts(cluster, kind="threshold")
            if found and fired_at is None:
                fired_at = time.time()
                assert fired_at - first_hot >= hold - 0.2, "fired before its hold time"
            if fired_at is not None and time.time() - fired_at > 1.5:
                break
        assert fired_at is not None, cluster.logs()
        found = _alerts(cluster, kind="threshold")
        assert len(found) == 1 and found[0]["resolved_at"] is None  # once, though it kept holding
        assert found[0]["details"]["unit"] == unit and found[0]["details"]["value"] == 41.0
        client.publish(topic, json.dumps({"temperature": 38.0}), qos=1).wait_for_publish(5)
        wait_for(lambda: _alerts(cluster, kind="threshold")[0]["resolved_at"], 10, 0.1, "resolved")
    finally:
        client.loop_stop()
        client.disconnect()
