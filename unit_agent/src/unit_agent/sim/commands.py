"""`pio` commands outside `run`: kill, jobs, cache, version, plugins, calibrations (real pio's texts)."""

from __future__ import annotations

import os
import signal
from typing import Any

import click

from .env import PIO_VERSION, SimEnv
from .fleet_commands import FLEET_COMMANDS


# ---- kill, jobs -----------------------------------------------------------------------------------
@click.command(name="kill", short_help="kill job(s)")
@click.option("--job-name", type=click.STRING)
@click.option("--experiment", type=click.STRING)
@click.option("--job-source", type=click.STRING)
@click.option("--job-id", type=click.INT)
@click.option("--all-jobs", is_flag=True, help="kill all Pioreactor jobs running")
def kill(
    job_name: str | None, experiment: str | None, job_source: str | None, job_id: int | None, all_jobs: bool
) -> None:
    """stop job(s)."""
    from .registry import Registry

    if not (job_name or experiment or job_source or all_jobs or job_id):
        raise click.Abort("Provide an option to kill. See --help")
    filters = {"job_name": job_name, "experiment": experiment, "job_source": job_source, "job_id": job_id}
    with Registry(SimEnv().registry_path) as reg:
        targets = reg.jobs_to_kill(all_jobs, {k: v for k, v in filters.items() if v is not None})
    for _name, pid, _job_id in targets:
        try:
            os.kill(pid, signal.SIGINT)  # real pio runs `kill -2 PID`: jobs see SIGINT
        except ProcessLookupError:
            click.echo(f"kill: ({pid}): No such process", err=True)
    count = len(targets)
    click.echo(f"Killed {count} job{'s' if count != 1 else ''}.")


@click.group(name="jobs", short_help="job-related commands")
def jobs() -> None:
    """Interact with Pioreactor jobs."""


def _history_line(job_id: int, job_name: str, experiment: str, job_source: str | None, unit: str,
                  started_at: str, ended_at: str | None, pid: int) -> str:  # fmt: skip
    def seconds(ts: str | None) -> str:
        return "" if ts is None else ts.split(".")[0].removesuffix("Z") + "Z"

    return (
        f"[job_id={job_id}] {job_name} experiment={experiment}, source={job_source or 'unknown'}, pid={pid},"
        f"started_at={seconds(started_at)}, ended_at={seconds(ended_at) or 'still running'}"
    )


def _show_history(running_only: bool) -> None:
    from .registry import Registry

    with Registry(SimEnv().registry_path) as reg:
        rows = reg.history(running_only)
    if not rows:
        click.echo("No jobs recorded.")
    for row in rows:
        click.echo(_history_line(*row))


@jobs.group(name="list", short_help="list jobs current and previous", invoke_without_command=True)
@click.pass_context
def job_list(ctx: click.Context) -> None:
    if ctx.invoked_subcommand is None:
        _show_history(False)


@job_list.command(name="running", short_help="show status of running job(s)")
def job_list_running() -> None:
    _show_history(True)


@jobs.command(name="set", short_help="set a running job setting")
@click.argument("job", type=click.STRING)
@click.argument("setting", type=click.STRING)
@click.argument("value", type=click.STRING)
def job_set(job: str, setting: str, value: str) -> None:
    """Set a published setting on a running job."""
    from .mqtt import Link

    env = SimEnv()
    host, port = env.broker
    link = Link(host, port, f"pio-jobs-set-{env.unit}-{os.getpid()}")
    link.connect()
    link.publish(
        f"pioreactor/{env.unit}/{env.experiment}/{job}/{setting.replace('-', '_')}/set", value, qos=1
    )
    link.close()


def _resolve_job_id(job_id: int | None, job_name: str | None) -> int | None:
    from .registry import Registry

    if job_id is None and job_name is None:
        click.echo("Provide --job-id or --job-name.")
        return None
    if job_id is None:
        with Registry(SimEnv().registry_path) as reg:
            job_id = reg.running_job_id(job_name or "")
        if job_id is None:
            click.echo(f"No running job found with name {job_name}.")
    return job_id


@jobs.command(name="purge", short_help="remove a job record")
@click.option("--job-id", type=click.INT)
@click.option("--job-name", type=click.STRING)
def job_purge(job_id: int | None, job_name: str | None) -> None:
    from .registry import Registry

    found = _resolve_job_id(job_id, job_name)
    if found is None:
        return
    with Registry(SimEnv().registry_path) as reg:
        if reg.job(found) is None:
            click.echo(f"No job found with job_id={found}.")
            return
        removed = reg.remove(found)
    click.echo(f"Removed job record {found}." if removed else f"Failed to remove job record {found}.")


@jobs.command(name="info", short_help="show details for a job")
@click.option("--job-id", type=click.INT)
@click.option("--job-name", type=click.STRING)
def job_info(job_id: int | None, job_name: str | None) -> None:
    from .registry import Registry

    found = _resolve_job_id(job_id, job_name)
    if found is None:
        return
    with Registry(SimEnv().registry_path) as reg:
        row = reg.job(found)
        settings = reg.settings(found) if row else []
    if row is None:
        click.echo(f"No job found with job_id={found}.")
        return
    click.echo(_history_line(*row))
    click.echo(f"status={'running' if row[6] is None else 'stopped'}")
    if settings:
        click.echo("published settings:")
    for setting, value, created_at, updated_at in settings:
        text = value.decode() if isinstance(value, bytes) else str(value)
        click.echo(f"  {setting}={text} (created_at={created_at}, updated_at={updated_at})")


@click.group(short_help="manage the local caches")
def cache() -> None:
    """View or purge the contents of a local cache."""


@cache.command(name="purge", short_help="remove a key from a cache")
@click.argument("cache", metavar="CACHE")
@click.argument("key", metavar="KEY")
@click.option("--as-int", is_flag=True, help="evict after casting key to int, useful for gpio pins.")
def purge_cache(cache: str, key: str, as_int: bool) -> None:
    """Remove a single entry from a cache."""
    from .registry import Registry

    candidates: list[Any] = [key]
    if as_int and key.lstrip("-").isdigit():
        candidates.insert(0, int(key))
    with Registry(SimEnv().registry_path) as reg:
        removed = reg.cache_purge(cache, candidates)
    if removed is not None:
        click.echo(f"Removed key {removed} from cache '{cache}'.")
    else:
        click.echo(f"No entry for key {candidates[0]} found in cache '{cache}'.")


# ---- version, plugins, calibrations ---------------------------------------------------------------
@click.command(name="version", short_help="print the Pioreactor software version")
@click.option("--verbose", "-v", is_flag=True, help="show more system information")
def version(verbose: bool) -> None:
    click.echo(f"Pioreactor app:         {PIO_VERSION}" if verbose else PIO_VERSION)


COMMANDS = [kill, jobs, cache, version, *FLEET_COMMANDS]
