"""The one fan-out: call every target in parallel, hand each outcome over as it arrives, keep a deadline.

Used by every operation (and by the few reads that ask all units at once). A bounded thread pool runs one
call per target; the caller's thread receives outcomes in arrival order and is the only one writing them,
so a fan-out to 100 agents costs about one agent's time. Targets still working at the deadline, or when the
operation is cancelled, get a failed outcome; their threads end on their own request timeouts.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

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
    """`call(target, deadline)` returns an Outcome or raises (AgentError → failed with its reason)."""

    call: Callable[[T, float], Outcome]
    workers: int = 128
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
        pool = ThreadPoolExecutor(
            max_workers=max(1, min(self.workers, len(targets))), thread_name_prefix="fanout"
        )
        # Each call hands its outcome to one queue as it finishes: taking arrivals from it costs the same
        # per outcome however many are pending (`concurrent.futures.wait` walks every pending future on
        # each call: quadratic in a 1,000-unit fan-out).
        arrivals: queue.SimpleQueue[Future[Outcome]] = queue.SimpleQueue()
        pending: dict[Future[Outcome], T] = {}
        for t in targets:
            future = pool.submit(self._guarded, t, deadline)
            pending[future] = t
            future.add_done_callback(arrivals.put)
        stop_reason, next_check = "", 0.0
        try:
            while pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    stop_reason = "no answer before the operation's deadline"
                    break
                if cancelled is not None and time.monotonic() >= next_check:
                    next_check = time.monotonic() + self.poll  # a store read; not once per arrival
                    if cancelled():
                        stop_reason = "cancelled"
                        break
                try:
                    done = [arrivals.get(timeout=min(self.poll, left))]
                except queue.Empty:
                    continue
                while True:  # everything else that has arrived meanwhile goes in the same batch
                    try:
                        done.append(arrivals.get_nowait())
                    except queue.Empty:
                        break
                done = [future for future in done if pending.pop(future, None) is not None]
                self._deliver([future.result() for future in done], outcomes, on_outcomes)
        finally:
            timeout = stop_reason != "cancelled"  # the deadline passed (or an error left the loop)
            batch = [
                Outcome(t.name, False, stop_reason or "stopped", timeout=timeout) for t in pending.values()
            ]
            self._deliver(batch, outcomes, on_outcomes)
            pool.shutdown(wait=False, cancel_futures=True)
        return outcomes

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

    def _guarded(self, target: T, deadline: float) -> Outcome:
        try:
            return self.call(target, deadline)
        except AgentError as exc:
            return Outcome(target.name, False, str(exc), timeout=exc.timeout)
        except Exception as exc:  # a bug in one call must not hide the other units' outcomes
            return Outcome(target.name, False, f"internal error: {exc!r}")
