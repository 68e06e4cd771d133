"""THE one module that starts processes: `pio` for every route, and the configured system commands.

Rules kept here, in one place:
- an argument list built from validated parts, never a shell; an option's value is the argument right after
  its flag (`--key value`, as automations need), positional args go after `--`;
- a timeout on every call, and SIGINT -> SIGTERM -> SIGKILL escalation when a process must stop;
- the child's environment is an allow-list: a few variables of the agent's own, plus what a request may set.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cluster_schema.agent import RunJobRequest
from cluster_schema.errors import BadRequest
from cluster_schema.names import check_arg, check_config_override, check_experiment, check_job

from .config import Settings
from .registry import pid_alive

OUTPUT_TAIL = 2000  # characters of a process's output kept in a result
ESCALATION = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)


@dataclass
class Done:
    argv: list[str]
    exit_code: int | None  # None: it did not finish before its timeout (and was killed)
    output: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def exit_code(returncode: int | None) -> int | None:
    """Popen's -N for "killed by signal N" becomes the shell's 128+N (SIGKILL -> 137)."""
    if returncode is None:
        return None
    return 128 - returncode if returncode < 0 else returncode


def tail(text: str | bytes, limit: int = OUTPUT_TAIL) -> str:
    if isinstance(text, bytes):
        text = text[-limit * 4 :].decode("utf-8", errors="replace")
    return text[-limit:].strip()


# PEP 508 distribution names; versions must parse as PEP 440 (so no URL, path, option or shell text).
_PACKAGE = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]{0,98}[A-Za-z0-9])$")


def check_plugin(name: str, version: str | None) -> None:
    """The name and version of `pio plugins install NAME --version VERSION`, or 400 naming the field."""
    from packaging.version import InvalidVersion, Version  # only the plugin routes and task need it

    if not isinstance(name, str) or not _PACKAGE.match(name):
        raise BadRequest("Invalid plugin name at `$.name`: a PEP 508 name (letters, digits, '.', '_', '-').")
    if version is None:
        return
    try:
        if len(version) > 64 or version != version.strip():
            raise InvalidVersion(version)
        Version(version)
    except InvalidVersion:
        raise BadRequest("Invalid plugin version at `$.version`: a PEP 440 version like 1.2.3.") from None


class Pio:
    def __init__(self, settings: Settings):
        self.settings = settings

    # -- argument lists -----------------------------------------------------------------------------------
    def run_args(self, job: str, req: RunJobRequest) -> list[str]:
        """`pio run [--config-override S K V]... JOB [--opt value | --flag]... [-- ARG...]`, validated."""
        check_job(job, "job_name")
        req.validate()
        args = ["run"]
        for i, override in enumerate(req.config_overrides):
            section, param, text = check_config_override(override, f"$.config_overrides[{i}]")
            args += ["--config-override", section, param, check_arg(text, f"$.config_overrides[{i}][2]")]
        args.append(job)
        for key, value in req.options.items():
            flag = "--" + key.replace("_", "-")
            # None is a bare flag (`--measure-rpm-only`), as in Pioreactor's own API. A value is its own
            # argument after the flag: automations read their settings as `--key value` pairs (click's extra
            # args), where `--key=value` would break the pairing; click takes the next argument as the value
            # even when it starts with `-`, so a value still never becomes a flag.
            args += [flag] if value is None else [flag, check_arg(value, f"$.options.{key}")]
        if req.args:
            args += ["--", *(check_arg(a, f"$.args[{i}]") for i, a in enumerate(req.args))]
        return args

    def env(self, requested: Mapping[str, str] = {}, experiment: str | None = None) -> dict[str, str]:
        allowed = set(self.settings.env_allowed)
        for key, value in requested.items():
            if key not in allowed:
                names = ", ".join(sorted(allowed))
                raise BadRequest(f"Environment variable not allowed at `$.env.{key[:40]}`: one of {names}.")
            if key == "EXPERIMENT":  # it becomes an MQTT topic segment and a registry value
                check_experiment(value, "$.env.EXPERIMENT")
            elif key == "JOB_SOURCE":
                check_job(value, "$.env.JOB_SOURCE")
            else:
                check_arg(value, f"$.env.{key}")
        env = {k: os.environ[k] for k in self.settings.env_passthrough if k in os.environ}
        env.update(requested)
        if experiment is not None:
            env["EXPERIMENT"] = experiment
        return env

    def argv(self, args: Sequence[str]) -> list[str]:
        for i, a in enumerate(args):
            if not isinstance(a, str) or "\x00" in a:
                raise BadRequest(f"Invalid argument #{i} for pio.")
        return [self.settings.pio, *args]

    def system_argv(self, name: str, **values: str) -> list[str]:
        """A configured system command with `{pio}`/`{utc}` replaced (whole elements only, no parsing)."""
        template: list[str] = getattr(self.settings, f"system_{name}")
        subs = {"{pio}": self.settings.pio, **{f"{{{k}}}": v for k, v in values.items()}}
        return [subs.get(part, part) for part in template]

    # -- running --------------------------------------------------------------------------------------------
    def start(self, args: Sequence[str], log_path: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        """Start `pio` detached (own session, stdin closed) with its output in `log_path`."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "wb") as out:
            return subprocess.Popen(
                self.argv(args),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env),
                start_new_session=True,
                close_fds=True,
            )

    def call(
        self, args: Sequence[str], timeout: float | None = None, env: Mapping[str, str] | None = None
    ) -> Done:
        return self.command(self.argv(args), timeout, env)

    def command(
        self, argv: Sequence[str], timeout: float | None = None, env: Mapping[str, str] | None = None
    ) -> Done:
        """Run to completion with a deadline; past it, the process group is stopped by escalation."""
        timeout = self.settings.timeouts_pio_call if timeout is None else timeout
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=dict(self.env() if env is None else env),
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            return Done(list(argv), 127, f"cannot start {argv[0]}: {exc}")
        try:
            out, _ = proc.communicate(timeout=timeout)
            return Done(list(argv), exit_code(proc.returncode), tail(out))
        except subprocess.TimeoutExpired:
            stop_group(proc, grace=1.0)
            out, _ = proc.communicate()
            return Done(list(argv), None, tail(out) + f"\n(timed out after {timeout:g} s)")

    # -- registry repairs, done by pio itself ---------------------------------------------------------------
    def purge_job(self, job_id: int) -> Done:
        return self.call(["jobs", "purge", "--job-id", str(int(job_id))])

    def purge_pwm_lock(self, pin: int) -> Done:
        return self.call(["cache", "purge", "pwm_locks", str(int(pin)), "--as-int"])


def stop_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    """Escalate on a process group we created (a `pio` call past its deadline)."""
    for sig in ESCALATION:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def stop_pids(jobs: Mapping[int, str | None], grace: float) -> set[int]:
    """SIGINT the jobs' processes, then SIGTERM, then SIGKILL, `grace` seconds apart; answer those left.

    `jobs` maps pid -> the registry's `started_at` (None: a child of ours) so a recycled pid is left alone.
    """
    left = {pid for pid, started in jobs.items() if pid_alive(pid, started)}
    for sig in ESCALATION:
        if not left:
            break
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        left = wait_gone(left, jobs, grace)
    return left


def wait_gone(pids: Iterable[int], started: Mapping[int, str | None], timeout: float) -> set[int]:
    left = set(pids)
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = {pid for pid in left if pid_alive(pid, started.get(pid))}
    return left
