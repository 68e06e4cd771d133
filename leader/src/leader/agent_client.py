"""HTTP client of the unit agents' `/unit_api`: coroutines, run on the agent loop (leader.agent_loop).

One connection pool per agent and process keeps connections alive between operations; every request
has a connect and a read timeout, both cut to what is left of the caller's deadline. Task answers (202) are
followed on `/unit_api/task_results/<id>` until they complete, fail, or the deadline passes. Synchronous
callers reach the agents through the fan-out (leader.fanout), one unit or many.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

import msgspec

from cluster_schema import codec
from cluster_schema.agent import TaskAnswer, TaskResult

from . import cluster_token
from .agent_connections import ConnectFailed, Connections
from .unit_address import UnitAddress

T = TypeVar("T")

_JSON = b"Content-Type: application/json\r\n"

# Polling a task result: start fast (most tasks finish in well under a second), back off to this.
POLL_FIRST, POLL_MAX = 0.02, 0.5


class AgentError(Exception):
    """A unit could not do what was asked; the message is the step's detail."""

    def __init__(self, message: str, *, timeout: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.timeout = timeout
        self.status = status  # the agent's HTTP status when it answered with an error


class Reply(NamedTuple):  # a tuple: one per agent request, cheaper to make than a frozen dataclass
    status_code: int
    content: bytes

    def json(self) -> Any:
        return msgspec.json.decode(self.content) if self.content else None


class AgentClient:
    def __init__(self, token_file: str, connect_timeout: float = 3.0, read_timeout: float = 10.0) -> None:
        self.token_file = token_file
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        # One kept-alive connection pool per agent (agent_connections: when a request is sent again, and
        # why never one that may have reached the agent, unless it is idempotent).
        self.connections = Connections()
        # (loop, Authorization line, the same with Content-Type) for this turn of the loop: _headers
        self._turn: tuple[asyncio.AbstractEventLoop, bytes, bytes] | None = None

    def _headers(self, token: str | None, json_body: bool) -> bytes:
        """Header lines of a request: rendered once per turn of the loop, with the token as the file holds
        it at that turn (a stat per turn, not per request: a fan-out sends hundreds in a turn).

        Exact, not "within some ms": whatever wrote a new token before asking the loop for a request made
        its write before that request's turn began, and the turn's first request stats the file anew. The
        loop is kept with the lines so a forked child does not use its parent's. Agent loop only: no lock."""
        if token is not None:  # a rotation's own requests name the token they carry
            auth = f"Authorization: Bearer {token}\r\n".encode("latin-1")
            return auth + _JSON if json_body else auth
        turn, loop = self._turn, asyncio.get_running_loop()
        if turn is None or turn[0] is not loop:
            auth = f"Authorization: Bearer {cluster_token.read(self.token_file)}\r\n".encode("latin-1")
            turn = self._turn = (loop, auth, auth + _JSON)
            loop.call_soon(self._end_turn, turn)  # after every callback already queued for this turn
        return turn[2] if json_body else turn[1]

    def _end_turn(self, turn: tuple[asyncio.AbstractEventLoop, bytes, bytes]) -> None:
        if self._turn is turn:
            self._turn = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AgentClient:
        return cls(
            config["CLUSTER_TOKEN_FILE"], config["AGENT_CONNECT_TIMEOUT"], config["AGENT_READ_TIMEOUT"]
        )

    async def request(
        self,
        unit: UnitAddress,
        method: str,
        path: str,
        body: Any = None,
        *,
        deadline: float | None = None,
        token: str | None = None,
    ) -> Reply:
        """One request; raises AgentError for no answer, a refused token or an error status."""
        read = self.read_timeout
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AgentError("no answer before the deadline", timeout=True)
            read = min(read, left)
        data = None if body is None else codec.encode(body)
        headers = self._headers(token, data is not None)
        try:
            status, content = await self.connections.send(
                unit.address, unit.port, method, path, data, headers, min(self.connect_timeout, read), read
            )
        except ConnectFailed as exc:
            if exc.timeout:
                raise AgentError(
                    f"agent at {unit.base_url} did not accept a connection in time", timeout=True
                ) from None
            raise AgentError(f"agent at {unit.base_url} is unreachable ({_reason(exc)})") from None
        except TimeoutError:
            raise AgentError(
                f"agent at {unit.base_url} did not answer in {read:.1f}s", timeout=True
            ) from None
        except OSError as exc:  # ConnectionError: reset or closed
            raise AgentError(f"agent at {unit.base_url} is unreachable ({_reason(exc)})") from None
        resp = Reply(status, content)
        if resp.status_code == 401:
            raise AgentError("agent refused the cluster token (401)")
        if resp.status_code >= 400 and not (resp.status_code == 404 and "/task_results/" in path):
            raise AgentError(f"agent answered {resp.status_code}: {_message(resp)}", status=resp.status_code)
        return resp

    async def get(self, unit: UnitAddress, path: str, type_: type[T], *, deadline: float | None = None) -> T:
        return _decode(type_, await self.request(unit, "GET", path, deadline=deadline))

    async def run_task(
        self,
        unit: UnitAddress,
        method: str,
        path: str,
        body: Any,
        result_type: type[T],
        *,
        deadline: float,
        cancelled: Callable[[], bool] | None = None,
    ) -> T:
        """Submit a task and follow it to its result."""
        resp = await self.request(unit, method, path, body, deadline=deadline)
        if resp.status_code != 202:
            raise AgentError(f"agent answered {resp.status_code} where a task (202) was expected")
        task = _decode(TaskAnswer, resp)
        return await self.follow(unit, task, result_type, deadline=deadline, cancelled=cancelled)

    async def follow(
        self,
        unit: UnitAddress,
        task: TaskAnswer,
        result_type: type[T],
        *,
        deadline: float,
        cancelled: Callable[[], bool] | None = None,
    ) -> T:
        delay = POLL_FIRST
        path = task.result_url_path or f"/unit_api/task_results/{task.task_id}"
        while True:
            resp = await self.request(unit, "GET", path, deadline=deadline)
            if resp.status_code == 404:
                raise AgentError(f"agent no longer knows task {task.task_id} (it may have restarted)")
            answer = _decode(TaskResult, resp)
            if answer.status == "complete":
                try:
                    return msgspec.convert(answer.result, result_type)
                except msgspec.ValidationError as exc:
                    raise AgentError(f"agent sent an unexpected task result: {exc}") from None
            if answer.status == "failed":
                raise AgentError(f"task failed on the unit: {answer.error or 'no reason given'}")
            if cancelled is not None and cancelled():
                raise AgentError("cancelled while the unit was still working")
            if time.monotonic() + delay >= deadline:
                raise AgentError("the unit's task did not finish before the deadline", timeout=True)
            await asyncio.sleep(delay)  # polling an HTTP resource; not waiting on a local event
            delay = min(delay * 2, POLL_MAX)


def _decode(type_: type[T], resp: Reply) -> T:
    try:
        return msgspec.json.decode(resp.content, type=type_)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise AgentError(f"agent sent an answer we cannot read: {exc}") from None


def _message(resp: Reply) -> str:
    try:
        data = resp.json()
        if isinstance(data, dict) and "message" in data:
            return str(data["message"])[:300]
    except msgspec.DecodeError:
        pass
    return resp.content[:300].decode(errors="replace") or "no message"


def _reason(exc: Exception) -> str:
    text = str(exc)
    for known in ("Connection refused", "Name or service not known", "No route to host", "Connection reset"):
        if known in text:
            return known.lower()
    return text[:200]
