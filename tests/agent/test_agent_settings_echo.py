"""How the worker waits for a job to echo a setting: a request lost before the job subscribed is sent again,
a job already in the asked state counts as done, a slow echo is waited for (no broker: the link is faked)."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from cluster_schema import topics
from cluster_schema.agent import SettingsUpdateRequest
from unit_agent.jobs import update_settings
from unit_agent.registry import JobRow
from unit_agent.state import Mirror

UNIT, EXP = "u1", "exp"


class FakeJob:
    """Stands for the link and the job behind the broker: drops the first `drop` requests (not subscribed
    yet), then echoes each request on the job's own topic, `delay` seconds later."""

    def __init__(self, mirror: Mirror, drop: int = 0, delay: float = 0.0):
        self.mirror, self.drop, self.delay = mirror, drop, delay
        self.connected = threading.Event()
        self.connected.set()
        self.sent: list[tuple[str, str]] = []

    def publish(self, topic: str, payload: str, **_: Any) -> bool:
        self.sent.append((topic, payload))
        if len(self.sent) > self.drop:
            echo = topic.removesuffix("/set")
            threading.Timer(self.delay, self.mirror.feed, (echo, payload.encode())).start()
        return True


def _runtime(job: FakeJob, echo_timeout: float = 15.0) -> Any:
    row = JobRow(job_id=1, job_name="stirring", experiment=EXP, job_source="user", pid=1, started_at=None)
    registry = SimpleNamespace(running=lambda **_: [row])
    settings = SimpleNamespace(unit=UNIT, timeouts_setting_echo=echo_timeout)
    return SimpleNamespace(registry=registry, link=job, mirror=job.mirror, settings=settings)


def _update(rt: Any, **settings: Any) -> Any:
    return update_settings(rt, "stirring", SettingsUpdateRequest(settings=settings, experiment=EXP))


def test_a_request_dropped_before_the_job_subscribed_is_sent_again() -> None:
    job = FakeJob(Mirror(UNIT), drop=1)
    result = _update(_runtime(job), **{"$state": "sleeping"})
    assert result.echoed == {"$state": "sleeping"} and result.not_echoed == []
    state_set = topics.state_set_topic(UNIT, EXP, "stirring")
    assert job.sent == [(state_set, "sleeping"), (state_set, "sleeping")]


def test_an_echo_is_sent_once_and_a_slow_echo_waited_for() -> None:
    job = FakeJob(Mirror(UNIT), delay=0.3)
    assert _update(_runtime(job), target_rpm=321).echoed == {"target_rpm": 321}
    assert len(job.sent) == 1
    slow = FakeJob(Mirror(UNIT), delay=1.5)  # past the first re-send: the job gets the same value again
    assert _update(_runtime(slow), target_rpm=300).echoed == {"target_rpm": 300}


def test_already_in_the_state_is_done_and_silence_is_not_echoed() -> None:
    mirror = Mirror(UNIT)
    mirror.feed(topics.state_topic(UNIT, EXP, "stirring"), b"sleeping")
    job = FakeJob(mirror, drop=99)
    assert _update(_runtime(job), **{"$state": "sleeping"}).echoed == {"$state": "sleeping"}
    assert job.sent == []  # a job in that state would not publish it again: nothing to wait for
    result = _update(_runtime(job, echo_timeout=1.5), **{"$state": "ready"})
    assert result.not_echoed == ["$state"] and len(job.sent) == 2  # sent, then again after 1 s
