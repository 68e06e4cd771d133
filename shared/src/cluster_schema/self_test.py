"""A unit's hardware self-test: Pioreactor's `pio run self_test`, as the leader answers it.

Real pio runs it under the experiment `$experiment` and publishes each check's outcome, retained, on

    pioreactor/<unit>/$experiment/self_test/<check>         1 passed · 0 failed · empty: cleared (pending)
    pioreactor/<unit>/$experiment/self_test/all_tests_passed 1 · 0, once every check has finished
    pioreactor/<unit>/$experiment/self_test/$state           init, ready … disconnected (or lost)

The leader stores those topics as it stores any setting and answers the latest run from them
(`GET /api/units/<unit>/self_test`); `POST` starts one (an operation of kind `unit.self_test`).
"""

from __future__ import annotations

from typing import Literal

from .base import Wire

SELF_TEST_JOB = "self_test"
UNIVERSAL_EXPERIMENT = "$experiment"
CheckStatus = Literal["pending", "passed", "failed", "not_run"]
# never: no self-test seen · starting: asked, not begun · running · passed/failed: every check finished ·
# stopped: it ended before its verdict (refused, interrupted, or its process vanished)
Verdict = Literal["never", "starting", "running", "passed", "failed", "stopped"]


class SelfTestCheck(Wire):
    name: str  # pio's name, e.g. test_pioreactor_HAT_present
    title: str  # what it checks, in words
    status: CheckStatus
    at: str | None = None  # when its outcome arrived (ISO 8601 UTC)
    reason: str | None = None  # a failed check's own words (pio's WARNING log for it)


class SelfTest(Wire):
    unit: str
    verdict: Verdict
    started_at: str | None = None
    finished_at: str | None = None
    passed: int = 0
    failed: int = 0
    checks: list[SelfTestCheck] = []
    operation_id: str | None = None  # the latest operation that started one on this unit
    operation_status: str | None = None
    operation_detail: str | None = None  # its step's detail on this unit (why it failed)
