"""Running, stopping and tuning jobs - the worker side (called from tasks.py with the process's Runtime)."""

from __future__ import annotations

import logging
import time
from typing import Any

from cluster_schema import topics
from cluster_schema.agent import (
    RunJobRequest,
    RunJobResult,
    SettingsResult,
    SettingsUpdateRequest,
    StopJobsRequest,
    StopJobsResult,
)
from cluster_schema.names import STATE_SETTING, check_job

from .pio import stop_pids, tail
from .runtime import Runtime
from .state import Entry, format_value, parse_value, same_value

log = logging.getLogger("unit_agent.jobs")


class TaskFailed(Exception):
    """The task could not do what it was asked; its message becomes the task result's `error`."""


def clear_stale(rt: Runtime, **filters: object) -> list[int]:
    """Purge registry rows of dead jobs and their PWM locks, through `pio` (what real pio requires)."""
    purged = []
    for row in rt.registry.stale(**filters):
        done = rt.pio.purge_job(row.job_id)
        log.info(
            "Cleared stale registry entry of %s (job_id %d, pid %d gone): %s",
            row.job_name,
            row.job_id,
            row.pid,
            "ok" if done.ok else f"exit {done.exit_code}: {done.output}",
            extra={"experiment": row.experiment},
        )
        purged.append(row.job_id)
    if purged:
        for pin in rt.registry.dead_pwm_locks():
            rt.pio.purge_pwm_lock(pin)
    return purged


def run_job(rt: Runtime, job: str, req: RunJobRequest) -> RunJobResult:
    args = rt.pio.run_args(job, req)
    env = rt.pio.env(req.env, req.experiment)
    with rt.job_lock(job):
        return _run(rt, job, args, env)


def _run(rt: Runtime, job: str, args: list[str], env: dict[str, str]) -> RunJobResult:
    experiment = env.get("EXPERIMENT")
    clear_stale(rt, job_name=job)
    running = rt.registry.running(job_name=job)
    if running:
        r = running[0]
        return RunJobResult(
            job_name=job, state="already_running", pid=r.pid, experiment=r.experiment, job_id=r.job_id
        )

    log_path = rt.settings.data_dir / "job_logs" / f"{job}.log"
    if log_path.exists():
        log_path.replace(log_path.with_suffix(".log.1"))  # keep the previous run's output
    started = time.monotonic()
    proc = rt.pio.start(args, log_path, env)
    rt.children.add(proc, job, experiment, log_path)
    log.info("Started %s (pid %d).", job, proc.pid, extra={"experiment": experiment})

    seen = _Seen(experiment)
    next_registry_check = 0.0

    def ready() -> bool:
        nonlocal next_registry_check
        if proc.poll() is not None:
            return True
        if seen.experiment is not None:
            entry = rt.mirror.state(seen.experiment, job)
            if entry is not None and entry.at >= started and entry.payload == "ready":
                seen.ready = True
                return True
        if time.monotonic() >= next_registry_check:  # the registry too: it works without the broker
            next_registry_check = time.monotonic() + 0.05
            row = rt.registry.row_by_pid(proc.pid)
            if row is not None:
                seen.experiment, seen.job_id = row.experiment, row.job_id
                if rt.registry.published_settings(row.job_id).get("$state") == "ready":
                    seen.ready = True
                    return True
        return False

    rt.mirror.wait(ready, rt.settings.timeouts_job_ready)
    took = time.monotonic() - started
    rt.store.job_start(job, took, "ready" if seen.ready else "finished" if proc.poll() == 0 else "failed")
    result = RunJobResult(
        job_name=job, state="failed", pid=proc.pid, experiment=seen.experiment, job_id=seen.job_id
    )
    if seen.ready:
        result.state = "ready"
        log.info("%s is ready (pid %d).", job, proc.pid, extra={"experiment": result.experiment})
        return result
    if proc.poll() is None:  # never became ready: do not leave a half-started job behind
        stop_pids({proc.pid: None}, rt.settings.timeouts_stop_grace)
        result.output_tail = f"not ready after {rt.settings.timeouts_job_ready:g} s; stopped. "
    result.exit_code = rt.children.exit_code(proc.pid)
    result.state = "finished" if result.exit_code == 0 else "failed"
    result.output_tail += tail(log_path.read_bytes()) if log_path.exists() else ""
    level = logging.INFO if result.state == "finished" else logging.ERROR
    extra = {"experiment": result.experiment}
    log.log(level, "%s %s (exit code %s).", job, result.state, result.exit_code, extra=extra)
    return result


class _Seen:
    """What a starting job has shown so far."""

    def __init__(self, experiment: str | None):
        self.experiment = experiment
        self.job_id: int | None = None
        self.ready = False


def stop_jobs(rt: Runtime, req: StopJobsRequest) -> StopJobsResult:
    filters: dict[str, Any] = {}
    if not req.all_jobs:
        filters = {"job_name": req.job_name, "experiment": req.experiment}
        filters |= {"job_source": req.job_source, "job_id": req.job_id}
    rows = rt.registry.rows(**filters)
    if not rows:
        return StopJobsResult(not_running=True)
    targets = {r.pid: r.started_at for r in rows if r.alive}
    left = stop_pids(targets, rt.settings.timeouts_stop_grace)
    clear_stale(rt, **filters)  # jobs that needed SIGKILL (or died before) leave their row behind
    result = StopJobsResult()
    for r in rows:
        if r.pid in left:
            result.still_running.append(r.job_name)
            continue
        result.stopped.append(r.job_name)
        code = result.exit_codes[r.job_name] = rt.children.exit_code(r.pid)
        log.info("Stopped %s (exit code %s).", r.job_name, code, extra={"experiment": r.experiment})
    return result


def update_settings(rt: Runtime, job: str, req: SettingsUpdateRequest) -> SettingsResult:
    """Publish each setting to `…/<setting>/set` (`$state` to `…/$state/set`: sleeping, ready or
    disconnected, as Pioreactor pauses, resumes and stops a job) and wait for the job to echo it."""
    check_job(job, "job_name")
    rows = rt.registry.running(job_name=job, experiment=req.experiment)
    if not rows:
        raise TaskFailed(
            f"{job} is not running" + (f" in experiment {req.experiment}." if req.experiment else ".")
        )
    if not rt.link.connected.wait(2.0):
        raise TaskFailed("The MQTT broker is unreachable; settings were not sent.")
    unit = rt.settings.unit

    def current(exp: str, key: str) -> Entry | None:
        return rt.mirror.state(exp, job) if key == STATE_SETTING else rt.mirror.setting(exp, job, key)

    # a job already in the state asked for would not publish it again: that is done already (idempotent)
    already = {
        (r.experiment, key)
        for r in rows
        for key in req.settings
        if key == STATE_SETTING
        and (entry := current(r.experiment, key)) is not None
        and entry.payload == req.settings[key]
    }

    def publish(pending: set[tuple[str, str]]) -> None:
        for exp, key in (
            (r.experiment, k) for r in rows for k in req.settings if (r.experiment, k) in pending
        ):
            topic = (
                topics.state_set_topic(unit, exp, job)
                if key == STATE_SETTING
                else topics.setting_set_topic(unit, exp, job, key)
            )
            if not rt.link.publish(topic, format_value(req.settings[key])):
                raise TaskFailed(f"Could not publish `{key}` to the broker.")

    wanted = {(r.experiment, key) for r in rows for key in req.settings}
    sent = time.monotonic()
    publish(wanted - already)
    log.info("Asked %s to set %s.", job, ", ".join(req.settings), extra={"experiment": rows[0].experiment})

    def echoed(exp: str, key: str) -> bool:
        if (exp, key) in already:
            return True
        entry = current(exp, key)
        return entry is not None and entry.at >= sent and same_value(req.settings[key], entry.payload)

    def all_echoed() -> bool:
        return all(echoed(exp, key) for exp, key in wanted)

    # A job subscribes to its `…/set` topics on its own, and real pio on another connection than the one
    # announcing `ready`: a request right after the start can reach the broker before the subscription and
    # be dropped. Setting the same value again is harmless, so what is still unconfirmed is sent again
    # after 1, 3 and 7 s (a slow echo - a busy unit, a slow SD card - is simply waited for).
    deadline = sent + rt.settings.timeouts_setting_echo
    for resend_after in (1.0, 3.0, 7.0):
        if rt.mirror.wait(all_echoed, min(sent + resend_after, deadline) - time.monotonic()):
            break
        if time.monotonic() >= deadline:
            break
        publish({(exp, key) for exp, key in wanted if not echoed(exp, key)})
    else:
        rt.mirror.wait(all_echoed, deadline - time.monotonic())
    result = SettingsResult()
    for key in req.settings:
        if all(echoed(r.experiment, key) for r in rows):
            entry = current(rows[0].experiment, key)
            result.echoed[key] = parse_value(entry.payload) if entry else None
        else:
            result.not_echoed.append(key)
    return result
