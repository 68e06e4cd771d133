"""The one fan-out: call every target at once, hand each outcome over as it arrives, keep a deadline.

Used by every operation and by every read that asks one unit or all of them. Each target's call is a
coroutine on the agent loop (leader.agent_loop), at most `workers` of them talking at once; the caller's
thread receives outcomes in arrival order and is the only one writing them, so a fan-out to 1,000 agents
costs about one agent's time. Targets still working at the deadline, or when the operation is cancelled,
get a failed outcome, and their calls are cancelled (their connections closed, never reused).
"""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from . import agent_loop
from .agent_client import AgentError


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


@dataclass
class Outcome:
    unit: str
    ok: bool
    detail: str = ""
    result: Any = None
    timeout: bool = False


@dataclass
class FanOut(Generic[T]):
    """`await call(target, deadline)` returns an Outcome or raises (AgentError → failed with its reason)."""

    call: Callable[[T, float], Awaitable[Outcome]]
    workers: int = 1024  # most calls at once (FANOUT_WORKERS): sockets, not threads
    poll: float = 0.2  # how often cancellation is checked while waiting

    def run(
        self,
        targets: Sequence[T],
        deadline: float,
        on_outcomes: Callable[[list[Outcome]], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        if not targets:
            return outcomes
        # The loop hands over the outcomes of each of its turns as one list: one wake-up of this thread
        # per batch of arrivals, not per unit.
        arrivals: queue.SimpleQueue[list[Outcome]] = queue.SimpleQueue()
        pending = {t.name: t for t in targets}
        calls = agent_loop.submit(self._all(targets, deadline, arrivals.put))
        stop_reason, next_check = "", 0.0
        try:
            while pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    stop_reason = "no answer before the deadline"  # the operation's, or a read's
                    break
                if cancelled is not None and time.monotonic() >= next_check:
                    next_check = time.monotonic() + self.poll  # a store read; not once per arrival
                    if cancelled():
                        stop_reason = "cancelled"
                        break
                try:
                    done = arrivals.get(timeout=min(self.poll, left))
                except queue.Empty:
                    continue
                while True:  # everything else that has arrived meanwhile goes in the same batch
                    try:
                        done += arrivals.get_nowait()
                    except queue.Empty:
                        break
                done = [o for o in done if pending.pop(o.unit, None) is not None]
                self._deliver(done, outcomes, on_outcomes)
        finally:
            calls.cancel()  # the calls still running end now, on the loop
            timeout = stop_reason != "cancelled"  # the deadline passed (or an error left the loop)
            batch = [
                Outcome(t.name, False, stop_reason or "stopped", timeout=timeout) for t in pending.values()
            ]
            self._deliver(batch, outcomes, on_outcomes)
        return outcomes

    async def _all(self, targets: Sequence[T], deadline: float, put: Callable[[list[Outcome]], None]) -> None:
        loop = asyncio.get_running_loop()
        # No semaphore when every call fits under the cap: its acquire and release are not free per call
        limit = asyncio.Semaphore(max(1, self.workers)) if len(targets) > self.workers else None
        ready: list[Outcome] = []

        def flush() -> None:
            put(ready[:])
            ready.clear()

        async def one(target: T) -> None:
            if limit is None:
                outcome = await self._guarded(target, deadline)
            else:
                async with limit:
                    outcome = await self._guarded(target, deadline)
            if not ready:
                loop.call_soon(flush)  # after the other calls that finish in this turn of the loop
            ready.append(outcome)

        await asyncio.gather(*(one(t) for t in targets))

    @staticmethod
    def _deliver(
        batch: list[Outcome],
        outcomes: dict[str, Outcome],
        on_outcomes: Callable[[list[Outcome]], None] | None,
    ) -> None:
        """Outcomes that arrived together are handed over together (the engine stores them in one commit)."""
        for outcome in batch:
            outcomes[outcome.unit] = outcome
        if batch and on_outcomes:
            on_outcomes(batch)

    async def _guarded(self, target: T, deadline: float) -> Outcome:
        try:
            return await self.call(target, deadline)
        except AgentError as exc:
            return Outcome(target.name, False, str(exc), timeout=exc.timeout)
        except Exception as exc:  # a bug in one call must not hide the other units' outcomes
            return Outcome(target.name, False, f"internal error: {exc!r}")


def one(call: Callable[[T, float], Awaitable[Outcome]], target: T, deadline: float) -> Outcome:
    """A fan-out to one unit for a caller that answers now: raises AgentError when the unit failed."""
    outcome = FanOut(call).run([target], deadline)[target.name]
    if not outcome.ok:
        raise AgentError(outcome.detail, timeout=outcome.timeout)
    return outcome
