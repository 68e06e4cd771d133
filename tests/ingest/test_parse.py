"""Routing real pio 26.11.1 traffic (the capture) into store rows, and refusing what is not well formed."""

from __future__ import annotations

from collections import Counter

import pytest

from leader.ingest.parse import LOG, PRESENCE, READING, SETTING, STATE, VALUE, Malformed, Router, Unknown

from .conftest import capture_messages


def route_all(router: Router) -> tuple[Counter[str], list[tuple[str, tuple]], int]:
    kinds: Counter[str] = Counter()
    rows = []
    unknown = 0
    for m in capture_messages():
        try:
            for kind, row in router.route(m.topic, m.payload, m.received_at):
                kinds[kind] += 1
                rows.append((kind, row))
        except Unknown:
            unknown += 1
    return kinds, rows, unknown


def test_capture_routes_without_malformed(router: Router) -> None:
    kinds, _rows, unknown = route_all(router)
    lines = [m.topic for m in capture_messages()]
    assert kinds[LOG] == sum("/logs/" in t for t in lines)
    assert kinds[STATE] == sum(t.endswith("/$state") for t in lines)
    assert kinds[SETTING] > 500 and kinds[READING] > 10
    # topics nobody subscribes to (pwms, pid_log, leds, */set) are the only unknowns
    assert 0 < unknown < len(lines) - kinds[LOG] - kinds[STATE]


def test_log_row_fields(router: Router) -> None:
    payload = (
        b'{"source":"app","task":"stirring","message":"Init.","level":"DEBUG",'
        b'"timestamp":"2026-11-21T04:49:19.895Z"}'
    )
    [(kind, row)] = router.route("pioreactor/unit1/exp1/logs/app/debug", payload, 1.0)
    assert kind == LOG
    ts_ms, unit, exp, job, source, level, message, dedupe, own_ts = row
    assert own_ts == 1
    assert (ts_ms, unit, exp, job, source, level, message) == (
        1795236559895,
        "unit1",
        "exp1",
        "stirring",
        "app",
        0,
        "Init.",
    )
    # the same message again has the same dedupe key; another message a different one
    assert router.route("pioreactor/unit1/exp1/logs/app/debug", payload, 2.0)[0][1][7] == dedupe
    assert router.route("pioreactor/unit1/exp1/logs/app/info", payload, 2.0)[0][1][7] != dedupe


def test_readings_use_chart_descriptors_and_payload_time(router: Router) -> None:
    od = (
        b'{"calibrated":0,"timestamp":"2026-11-21T04:51:49.716000Z","angle":"90",'
        b'"od":0.1165,"channel":"2","ir_led_intensity":85.0}'
    )
    recs = router.route("pioreactor/u1/e1/od_reading/od2", od, 5.0)
    # any `<job>/<setting>` topic also keeps its last value (profile expressions look them up)
    assert {k for k, _ in recs} == {VALUE, READING}
    assert (READING, ("od", "e1", "u1", 1795236709.716, 0.1165)) in recs
    temp = b'{"timestamp":"2026-11-21T04:52:07.794000Z","temperature":27.5}'
    recs = router.route("pioreactor/u1/e1/temperature_automation/temperature", temp, 5.0)
    # temperature is both a published setting of temperature_automation and a chart
    assert {k for k, _ in recs} == {SETTING, VALUE, READING}
    assert (READING, ("temperature", "e1", "u1", 1795236727.794, 27.5)) in recs
    # an empty retained payload clears: no reading, the last value is forgotten
    assert router.route("pioreactor/u1/e1/od_reading/od2", b"", 5.0) == [
        (VALUE, ("u1", "e1", "od_reading", "od2", None, 5.0))
    ]


def test_growth_rate_payloads(router: Router) -> None:
    # pio's structs.GrowthRate / structs.ODFiltered as published by growth_rate_calculating
    stamp = b'"timestamp":"2026-11-21T04:56:29.212000Z"'
    topic = "pioreactor/u1/e1/growth_rate_calculating/"
    gr = router.route(topic + "growth_rate", b'{"growth_rate":0.25,' + stamp + b"}", 1.0)
    nod = router.route(topic + "od_filtered", b'{"od_filtered":1.5,' + stamp + b"}", 1.0)
    assert [row for kind, row in gr if kind == READING] == [("growth_rate", "e1", "u1", 1795236989.212, 0.25)]
    assert [row for kind, row in nod if kind == READING] == [
        ("normalized_od", "e1", "u1", 1795236989.212, 1.5)
    ]


def test_settings_and_states(router: Router) -> None:
    assert router.route("pioreactor/u1/e1/stirring/target_rpm", b"500.0", 3.0) == [
        (SETTING, ("u1", "e1", "stirring", "target_rpm", "500.0", 3.0)),
        (VALUE, ("u1", "e1", "stirring", "target_rpm", "500.0", 3.0)),
    ]
    assert router.route("pioreactor/u1/e1/stirring/enable_dodging_od", b"False", 3.0)[0][1][4] == "false"
    assert router.route("pioreactor/u1/e1/stirring/target_rpm", b"", 3.0)[0][1][4] is None
    assert router.route("pioreactor/u1/e1/stirring/$state", b"ready", 3.0) == [
        (STATE, ("u1", "e1", "stirring", "ready", 3.0))
    ]


def test_presence_plain_and_json(router: Router) -> None:
    assert router.route("pioreactor/u1/$agent/presence", b"online", 4.0) == [
        (PRESENCE, ("u1", "online", 4.0, None))
    ]
    body = b'{"status":"offline","unit":"u1","timestamp":"2026-11-21T04:49:19.895Z"}'
    assert router.route("pioreactor/u1/$agent/presence", body, 4.0) == [
        (PRESENCE, ("u1", "offline", 4.0, None))  # arrival time: a last will's timestamp is its connection's
    ]
    online = body.replace(b"offline", b"online")
    ((_, row),) = router.route("pioreactor/u1/$agent/presence", online, 4.0)
    assert row[:3] == ("u1", "online", 4.0) and row[3] == pytest.approx(1795236559.895)  # when it was there
    assert router.route("pioreactor/u1/$agent/presence", b"", 4.0) == []


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("pioreactor/u1/e1/logs/app/info", b"not json"),
        ("pioreactor/u1/e1/logs/app/info", b'{"level":"INFO"}'),  # no message
        ("pioreactor/u1/e1/logs/app/info", b'{"message":"x","level":"INFO","timestamp":"yesterday"}'),
        ("pioreactor/u1/e1/stirring/$state", b"dancing"),
        ("pioreactor/u1/e1/od_reading/od2", b'{"od":"high"}'),
        ("pioreactor/u1/e1/od_reading/od2", b"[1,"),
        ("pioreactor/u1/$agent/presence", b"sleepy"),
    ],
)
def test_malformed_payloads_raise_malformed(router: Router, topic: str, payload: bytes) -> None:
    with pytest.raises(Malformed):
        router.route(topic, payload, 1.0)


@pytest.mark.parametrize(
    "topic",
    [
        "pioreactor/u1/e1/pwms/channel_dc/x",
        "pioreactor/test/ping",
        "other/u1/e1/x/y",
        "pioreactor/u1/e1/logs/app/loud",
    ],
)
def test_unknown_topics_raise_unknown(router: Router, topic: str) -> None:
    with pytest.raises(Unknown):
        router.route(topic, b"{}", 1.0)


def test_every_job_setting_keeps_its_last_value(router: Router) -> None:
    """Not only descriptor settings: a profile may look up any `<unit>:<job>:<setting>`."""
    assert router.route("pioreactor/u1/e1/pwms/dc", b'{"1": 0.5}', 1.0) == [
        (VALUE, ("u1", "e1", "pwms", "dc", '{"1":0.5}', 1.0))
    ]
    assert router.route("pioreactor/u1/e1/my_plugin/level", b"high", 2.0) == [
        (VALUE, ("u1", "e1", "my_plugin", "level", '"high"', 2.0))
    ]
    # a descriptor setting is both (the settings table feeds running jobs, exports and events)
    assert {k for k, _ in router.route("pioreactor/u1/e1/stirring/target_rpm", b"500", 3.0)} == {
        SETTING,
        VALUE,
    }
    assert "pioreactor/+/+/+/+" in router.subscriptions()
