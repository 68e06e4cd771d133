"""The fan-out and the agent client against real HTTP stand-in agents."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster_schema.agent import RunJobRequest, RunJobResult
from devcluster.procs import free_port
from leader import agent_loop, cluster_token
from leader.agent_client import AgentClient, AgentError, Reply
from leader.fanout import FanOut, Outcome
from leader.unit_address import UnitAddress
from tests.leader.standin import Behaviour, StandIn
from tests.leader.standin_host import serve


@pytest.fixture
def client(tmp_path: Path) -> AgentClient:
    path = str(tmp_path / "token")
    cluster_token.write(path, "secret-token")
    return AgentClient(path, connect_timeout=1.0, read_timeout=3.0)


@pytest.fixture
def standins() -> Iterator[list[StandIn]]:
    agents = [StandIn(f"u{i}", "secret-token").start() for i in range(8)]
    yield agents
    for a in agents:
        a.stop()


def _address(a: StandIn) -> UnitAddress:
    return UnitAddress(a.unit, "127.0.0.1", a.port)


def _get(client: AgentClient, unit: UnitAddress) -> Reply:
    call = client.request(unit, "GET", "/unit_api/versions", deadline=time.monotonic() + 2)
    return agent_loop.submit(call).result()


def _start(client: AgentClient) -> FanOut[UnitAddress]:
    async def call(unit: UnitAddress, deadline: float) -> Outcome:
        result = await client.run_task(
            unit,
            "POST",
            "/unit_api/jobs/run/job_name/stirring",
            RunJobRequest(experiment="exp"),
            RunJobResult,
            deadline=deadline,
        )
        return Outcome(unit.name, result.state != "failed", result.state)

    return FanOut(call)


def test_parallel_outcomes_arrive_as_they_come(client: AgentClient, standins: list[StandIn]) -> None:
    for a in standins:
        a.delay = 0.3
    standins[0].delay = 0.0
    seen: list[str] = []
    t0 = time.monotonic()
    outcomes = _start(client).run(
        [_address(a) for a in standins],
        time.monotonic() + 10,
        lambda batch: seen.extend(o.unit for o in batch),
    )
    elapsed = time.monotonic() - t0
    assert all(o.ok and o.detail == "ready" for o in outcomes.values())
    assert len(outcomes) == 8 and seen[0] == "u0"  # the fast unit is recorded first
    assert elapsed < 0.3 * 8 / 2, f"not parallel: {elapsed:.2f}s"  # serial would be 2 x 0.3 x 7


def test_follows_pending_tasks_and_reports_failures(client: AgentClient, standins: list[StandIn]) -> None:
    standins[0].task_time = 0.3
    standins[1].run_state = "failed"
    outcomes = _start(client).run([_address(a) for a in standins[:3]], time.monotonic() + 10)
    assert outcomes["u0"].ok and outcomes["u0"].detail == "ready"
    assert not outcomes["u1"].ok and outcomes["u1"].detail == "failed"
    assert outcomes["u2"].ok


def test_offline_slow_and_wrong_token(client: AgentClient, standins: list[StandIn]) -> None:
    offline = UnitAddress("gone", "127.0.0.1", free_port())
    standins[0].delay = 5.0  # slower than the deadline
    standins[1].token = "another"
    t0 = time.monotonic()
    outcomes = _start(client).run([offline, *(_address(a) for a in standins[:3])], time.monotonic() + 1.0)
    assert time.monotonic() - t0 < 2.0  # the deadline holds
    assert not outcomes["gone"].ok and "unreachable" in outcomes["gone"].detail
    assert not outcomes["u0"].ok and outcomes["u0"].timeout
    assert not outcomes["u1"].ok and "refused the cluster token" in outcomes["u1"].detail
    assert outcomes["u2"].ok


def test_cancellation_stops_waiting(client: AgentClient, standins: list[StandIn]) -> None:
    standins[0].task_time = 10.0
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    t0 = time.monotonic()
    outcomes = _start(client).run(
        [_address(a) for a in standins[:2]], time.monotonic() + 10, cancelled=cancel.is_set
    )
    assert time.monotonic() - t0 < 2.0
    assert outcomes["u1"].ok
    assert not outcomes["u0"].ok and outcomes["u0"].detail == "cancelled"


def test_keep_alive_reuses_connections(client: AgentClient, standins: list[StandIn]) -> None:
    unit = _address(standins[0])
    for _ in range(3):
        _get(client, unit)
    assert len(standins[0].requests) == 3
    assert len(standins[0].peers) == 1  # three requests, one TCP connection


def test_a_connection_the_agent_closed_is_replaced_not_failed(
    client: AgentClient, standins: list[StandIn]
) -> None:
    """An agent restarting (or timing out an idle connection) must not fail the next request on it."""
    unit = _address(standins[0])
    _get(client, unit)
    for sock in list(standins[0].sockets):
        sock.shutdown(socket.SHUT_RDWR)  # the agent's side of the kept connection goes away
    deadline = time.monotonic() + 5
    while standins[0].sockets and time.monotonic() < deadline:
        time.sleep(0.01)  # poll: the stand-in's handler thread notices the close
    reply = _get(client, unit)
    assert reply.status_code == 200
    assert len(standins[0].requests) == 2  # each request reached the agent once (no retry)
    assert len(standins[0].peers) == 2  # on a new connection


def test_a_reset_is_retried_only_where_the_request_cannot_run_twice(
    client: AgentClient, standins: list[StandIn]
) -> None:
    """GET is idempotent: sent again on a new connection. A POST that met a reset may have started the job
    on the agent: reported, never repeated."""
    reader, starter = standins[0], standins[1]
    reader.resets = 1
    assert _get(client, _address(reader)).status_code == 200
    assert [m for m, _ in reader.requests] == ["GET", "GET"]  # once reset, once answered
    assert len(reader.peers) == 2

    starter.resets = 1
    outcomes = _start(client).run([_address(starter)], time.monotonic() + 5)
    assert not outcomes["u1"].ok and "connection reset" in outcomes["u1"].detail
    assert starter.requests == [("POST", "/unit_api/jobs/run/job_name/stirring")]  # reached once, not again


def test_many_units_with_one_slow_and_one_gone_each_get_their_outcome_in_time(client: AgentClient) -> None:
    """300 agents on one event loop (standin_host): every unit answers 100 ms after each request; one never
    answers in time, one has no listener. Each unit's outcome is its own, and the deadline holds."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    units = [Behaviour(f"m{i:03d}", "secret-token", delay=0.1) for i in range(300)]
    units[7].delay = 30.0
    ports, servers = asyncio.run_coroutine_threadsafe(serve(units), loop).result(10)
    try:
        targets = [UnitAddress(u.unit, "127.0.0.1", p) for u, p in zip(units, ports, strict=True)]
        targets.append(UnitAddress("gone", "127.0.0.1", free_port()))
        t0 = time.monotonic()
        outcomes = _start(client).run(targets, time.monotonic() + 2.0)
        elapsed = time.monotonic() - t0
    finally:
        for s in servers:
            loop.call_soon_threadsafe(s.close)
        loop.call_soon_threadsafe(loop.stop)
    assert elapsed < 3.0, f"the deadline did not hold: {elapsed:.2f}s"
    assert len(outcomes) == 301
    assert not outcomes["m007"].ok and outcomes["m007"].timeout
    assert not outcomes["gone"].ok and "refused" in outcomes["gone"].detail
    ok = [u for u, o in outcomes.items() if o.ok]
    assert len(ok) == 299 and all(outcomes[u].detail == "ready" for u in ok)
    assert all(len(u.requests) == 2 for i, u in enumerate(units) if i != 7)  # a run and its result


def test_at_most_workers_calls_at_once(client: AgentClient, standins: list[StandIn]) -> None:
    """FANOUT_WORKERS caps the calls in flight (sockets on the loop); the rest wait their turn."""
    inflight, most = 0, 0

    async def call(unit: UnitAddress, deadline: float) -> Outcome:
        nonlocal inflight, most
        inflight += 1  # every call runs on the one agent loop: no lock
        most = max(most, inflight)
        try:
            await client.request(unit, "GET", "/unit_api/versions", deadline=deadline)
        finally:
            inflight -= 1
        return Outcome(unit.name, True, "answered")

    for a in standins:
        a.delay = 0.05
    outcomes = FanOut(call, workers=3).run([_address(a) for a in standins], time.monotonic() + 10)
    assert len(outcomes) == 8 and all(o.ok for o in outcomes.values())
    assert most == 3


def test_a_rotated_token_goes_out_with_the_very_next_request(
    client: AgentClient, standins: list[StandIn]
) -> None:
    """The token file is looked at anew in every turn of the agent loop: a request asked for after a
    rotation carries the new token, however soon after (it could lag 50 ms, and a same-size token written
    in the same tick of the file clock kept the same mtime)."""
    unit = _address(standins[0])
    for _ in range(20):
        token = cluster_token.new_token()
        cluster_token.write(client.token_file, token)
        standins[0].token = token  # the agent took the new token: the old one is refused (401)
        assert _get(client, unit).status_code == 200


def test_a_forked_child_gets_a_loop_of_its_own_and_leaves_the_parents_alone(
    client: AgentClient, standins: list[StandIn]
) -> None:
    """gunicorn forks: a child of a process whose agent loop runs starts its own loop (requests and read
    deadlines work there) and does not disturb the parent's kept connections, whose sockets share their
    epoll with the child."""
    kept, slow = _address(standins[0]), _address(standins[1])
    standins[1].delay = 5.0
    assert _get(client, kept).status_code == 200  # the parent's loop runs, with one kept connection
    parent_loop = agent_loop.loop()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, leave without pytest's teardown
        try:
            assert agent_loop.loop() is not parent_loop
            assert _get(client, kept).status_code == 200
            late = client.request(slow, "GET", "/unit_api/versions", deadline=time.monotonic() + 0.3)
            try:
                agent_loop.submit(late).result(5)
                report = "the slow agent answered in time?"
            except AgentError as exc:
                report = "ok" if exc.timeout else repr(exc)
        except BaseException as exc:
            report = repr(exc)
        os.write(w, report.encode()[:1000])
        os._exit(0)
    os.close(w)
    try:
        readable, _, _ = select.select([r], [], [], 20)
        report = os.read(r, 1000).decode() if readable else "no report from the child in 20 s"
    finally:
        os.close(r)
        if not readable:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert report == "ok"
    assert _get(client, kept).status_code == 200  # the parent's kept connection still hears its answers
    assert len(standins[0].peers) == 2  # the parent's one connection, reused, and the child's


def test_requests_sent_together_each_keep_their_own_read_deadline(
    client: AgentClient, standins: list[StandIn]
) -> None:
    """Requests sent in one turn of the loop share one deadline timer: each still fails at its own
    deadline, not at the earliest's or the last's, and an answer in time is an answer."""
    slow, fast = _address(standins[0]), _address(standins[1])
    standins[0].delay, standins[1].delay = 5.0, 0.3

    async def timed(unit: UnitAddress, after: float) -> tuple[str, float]:
        t0 = time.monotonic()
        try:
            await client.request(unit, "GET", "/unit_api/versions", deadline=t0 + after)
            return "answered", time.monotonic() - t0
        except AgentError as exc:
            return ("timeout" if exc.timeout else str(exc)), time.monotonic() - t0

    async def together() -> list[tuple[str, float]]:
        return await asyncio.gather(timed(slow, 0.2), timed(slow, 0.8), timed(fast, 2.0))

    (early, t_early), (late, t_late), (answered, t_answered) = agent_loop.submit(together()).result(10)
    assert (early, late, answered) == ("timeout", "timeout", "answered")
    assert 0.2 <= t_early < 0.8 <= t_late < 2.0, (t_early, t_late)  # neither at the other's deadline
    assert t_answered < 2.0
