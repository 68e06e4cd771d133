"""Topic builders and parser, checked against real `pio` 26.11.1 traffic."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster_schema import topics
from cluster_schema.errors import BadRequest
from cluster_schema.topics import Kind

CAPTURE = Path(__file__).resolve().parent.parent / "fixtures" / "pio-26.11.1-mqtt-capture.txt"


def capture_topics() -> list[str]:
    out = []
    for line in CAPTURE.read_text().splitlines():
        parts = line.split(" ", 3)
        if len(parts) >= 3:
            out.append(parts[2])
    return out


def test_every_captured_pioreactor_topic_parses() -> None:
    seen = capture_topics()
    assert len(seen) > 1000
    kinds = {}
    for t in seen:
        parsed = topics.parse(t)
        if t == "pioreactor/test/ping":
            continue
        assert parsed is not None, t
        kinds.setdefault(parsed.kind, t)
    assert {Kind.STATE, Kind.STATE_SET, Kind.SETTING, Kind.SETTING_SET, Kind.LOG, Kind.OTHER} <= set(kinds)


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("pioreactor/unit1/exp1/stirring/$state", dict(kind=Kind.STATE, job="stirring")),
        ("pioreactor/unit1/exp1/stirring/$state/set", dict(kind=Kind.STATE_SET, job="stirring")),
        ("pioreactor/unit1/exp1/stirring/target_rpm", dict(kind=Kind.SETTING, setting="target_rpm")),
        ("pioreactor/unit1/exp1/stirring/target_rpm/set", dict(kind=Kind.SETTING_SET, setting="target_rpm")),
        ("pioreactor/unit1/exp1/od_reading/ods", dict(kind=Kind.SETTING, job="od_reading", setting="ods")),
        ("pioreactor/unit1/exp1/logs/app/warning", dict(kind=Kind.LOG, source="app", level="warning")),
        ("pioreactor/unit1/exp1/logs/agent/error", dict(kind=Kind.LOG, source="agent", level="error")),
        ("pioreactor/unit1/$agent/presence", dict(kind=Kind.PRESENCE)),
        ("pioreactor/unit1/exp1/pwms/channel_dc", dict(kind=Kind.SETTING, job="pwms")),
        ("pioreactor/unit1/exp1/led_change_events", dict(kind=Kind.OTHER, rest=("led_change_events",))),
    ],
)
def test_parse(topic: str, expected: dict[str, object]) -> None:
    parsed = topics.parse(topic)
    assert parsed is not None
    assert parsed.unit == "unit1"
    for key, value in expected.items():
        assert getattr(parsed, key) == value


@pytest.mark.parametrize(
    "topic",
    [
        "",
        "other/unit1/exp1/x/$state",
        "pioreactor/unit1",
        "pioreactor/+/exp1/x/$state",
        "pioreactor/u//x/y",
        "pioreactor/u/e/#",
        "pioreactor/u/e/j/s\x00",
    ],
)
def test_parse_rejects(topic: str) -> None:
    assert topics.parse(topic) is None


def test_builders_round_trip_through_parser() -> None:
    t = topics.parse(topics.setting_set_topic("u1", "My exp", "stirring", "target_rpm"))
    assert t is not None and (t.kind, t.experiment, t.setting) == (Kind.SETTING_SET, "My exp", "target_rpm")
    t = topics.parse(topics.log_topic("u1", "e", "agent", "WARNING"))
    assert t is not None and (t.kind, t.level) == (Kind.LOG, "warning")
    t = topics.parse(topics.presence_topic("u1"))
    assert t is not None and t.kind is Kind.PRESENCE


@pytest.mark.parametrize("bad", ["", "a/b", "a+", "#", "x\x00y"])
@pytest.mark.parametrize("position", ["unit", "experiment", "job", "setting"])
def test_builders_reject_injected_segments(bad: str, position: str) -> None:
    parts = {"unit": "u1", "experiment": "e1", "job": "stirring", "setting": "target_rpm", position: bad}
    with pytest.raises(BadRequest) as exc:
        topics.setting_set_topic(parts["unit"], parts["experiment"], parts["job"], parts["setting"])
    assert f"`{position}`" in exc.value.message


def test_state_is_not_a_setting() -> None:
    with pytest.raises(BadRequest):
        topics.setting_topic("u1", "e1", "stirring", "$state")


def test_log_level_checked() -> None:
    with pytest.raises(BadRequest):
        topics.log_topic("u1", "e1", "app", "loud")
