"""`pio-sim`: the part of the `pio` command line a unit agent uses, with real pio's arguments, output
and exit codes (click, like the real one, so usage errors read the same and exit 2)."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import click

from .env import PIO_VERSION, SimEnv


@click.group(invoke_without_command=True)
@click.pass_context
def pio(ctx: click.Context) -> None:
    """Execute commands on this Pioreactor (simulated: pio-sim)."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


# ---- run ------------------------------------------------------------------------------------------
@pio.group(short_help="run a job", invoke_without_command=True)
@click.option(
    "--config-override",
    nargs=3,
    multiple=True,
    metavar="<section> <param> <value>",
    help="Temporarily override a config value",
)
@click.pass_context
def run(ctx: click.Context, config_override: tuple[tuple[str, str, str], ...]) -> None:
    """Run a job."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        return
    env = SimEnv()
    for section, param, value in config_override:
        if not env.config.has_section(section):
            env.config.add_section(section)
        env.config.set(section, param, value)
    ctx.obj = env


def _run_job(job_name: str, **options: Any) -> None:
    from .job import Abort, JobPresentError, PWMError
    from .jobs import JOBS

    env = click.get_current_context().find_object(SimEnv) or SimEnv()
    job = JOBS[job_name](env, **options)
    try:
        job.run()
    except (JobPresentError, PWMError) as e:
        click.echo(f"pioreactor.exc.{type(e).__name__}: {e}", err=True)
        sys.exit(1)
    except (KeyError, TypeError) as e:  # a bad automation or a missing argument, as real pio reports them
        click.echo(f"{type(e).__name__}: {e}", err=True)
        sys.exit(1)
    except ConnectionError as e:
        click.echo(f"ConnectionRefusedError: {e}", err=True)
        sys.exit(1)
    except Abort:
        raise KeyboardInterrupt from None  # click prints "Aborted!" and exits 1, like real pio on SIGINT


@run.command(name="stirring", short_help="Start the stirring of the Pioreactor.")
@click.option("--target-rpm", type=click.FloatRange(0, 2000, clamp=True), help="set the target RPM")
@click.option("--use-rpm", type=click.BOOL, help="Use RPM feedback loop.")
@click.option("--duty-cycle", type=click.FloatRange(0, 100), help="initial duty cycle (%)")
@click.option("--target-rpm-during-od-reading", type=click.FLOAT, help="override RPM during OD readings")
@click.option("--target-rpm-outside-od-reading", type=click.FLOAT, help="override RPM outside OD readings")
@click.option("--enable-dodging-od", type=click.BOOL)
@click.option("--measure-rpm-only", is_flag=True, help="Measure and publish RPM without PID control.")
def stirring(**options: Any) -> None:
    """Start the stirring of the Pioreactor."""
    _run_job("stirring", **options)


@run.command(name="od_reading", short_help="Start the optical density reading job")
@click.option("--fake-data", is_flag=True, help="produce fake data (for testing)")
@click.option("--interval", type=click.FLOAT, help="seconds between readings")
@click.option("--ir-led-intensity", type=click.FLOAT, help="IR LED intensity (percent)")
@click.option("--snapshot", is_flag=True, help="take one reading and exit")
def od_reading(**options: Any) -> None:
    """Start the optical density reading job"""
    _run_job("od_reading", **options)


@run.group(name="growth_rate_calculating", invoke_without_command=True)
@click.pass_context
def growth_rate_calculating(ctx: click.Context) -> None:
    """Start calculating growth rate"""
    if ctx.invoked_subcommand is None:
        _run_job("growth_rate_calculating")


@growth_rate_calculating.command(name="clear_cache")
def clear_cache() -> None:
    """Forget the OD statistics (the simulator keeps none between runs)."""


def _automation_command(job_name: str, doc: str) -> click.Command:
    @click.command(name=job_name, context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.option(
        "--automation-name",
        help="set the automation of the system: silent, etc.",
        show_default=True,
        required=True,
    )
    @click.pass_context
    def command(ctx: click.Context, automation_name: str) -> None:
        args = ctx.args
        if len(args) % 2:
            click.echo("IndexError: list index out of range", err=True)
            sys.exit(1)
        extra = {args[i][2:].replace("-", "_"): args[i + 1] for i in range(0, len(args), 2)}
        _run_job(job_name, automation_name=automation_name, extra=extra)

    command.help = doc
    return command


run.add_command(_automation_command("temperature_automation", "Start an Temperature automation"))
run.add_command(_automation_command("dosing_automation", "Start a dosing automation"))
run.add_command(_automation_command("led_automation", "Start an LED automation"))


@run.command(name="monitor", short_help="Monitor and report metadata on the unit.")
def monitor() -> None:
    """Monitor and report metadata on the unit."""
    _run_job("monitor")


# ---- kill, jobs -----------------------------------------------------------------------------------
@pio.command(name="kill", short_help="kill job(s)")
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


@pio.group(name="jobs", short_help="job-related commands")
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


@pio.group(short_help="manage the local caches")
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
@pio.command(name="version", short_help="print the Pioreactor software version")
@click.option("--verbose", "-v", is_flag=True, help="show more system information")
def version(verbose: bool) -> None:
    click.echo(f"Pioreactor app:         {PIO_VERSION}" if verbose else PIO_VERSION)


@pio.group(short_help="manage plugins")
def plugins() -> None:
    pass


@plugins.command(name="list", short_help="list the installed plugins")
@click.option("--json", "json_", is_flag=True, help="output as json")
def plugins_list(json_: bool) -> None:
    if json_:
        click.echo("[]")  # the simulator has no plugins, like a unit with SKIP_PLUGINS


@pio.group(short_help="calibration utils")
def calibrations() -> None:
    """interface for all calibrations."""


@calibrations.command(name="list", short_help="List existing calibrations for the given device if provided.")
@click.option("--device", required=False)
def calibrations_list(device: str | None) -> None:
    header = f"{'Device':<25}{'Name':<50}{'Calibration type':<50}{'Created at':<25}{'Active?':<10}"
    click.echo(header)
    click.echo("-" * len(header))


def main(argv: list[str] | None = None) -> None:
    pio.main(args=argv, prog_name="pio")
