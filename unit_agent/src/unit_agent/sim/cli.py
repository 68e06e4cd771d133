"""`pio-sim`: the part of the `pio` command line a unit agent uses, with real pio's arguments, output
and exit codes (click, like the real one, so usage errors read the same and exit 2)."""

from __future__ import annotations

import sys
from typing import Any

import click

from . import actions
from .commands import COMMANDS
from .env import SimEnv


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


@run.command(name="self_test", short_help="Test the input/output in the Pioreactor")
@click.option("-k", help="see pytest's -k argument", type=str)
@click.option("--retry-failed", is_flag=True, help="retry only previous failed tests")
def self_test(**options: Any) -> None:
    """Test the input/output in the Pioreactor"""
    _run_job("self_test", **options)


for command in actions.commands(_run_job):
    run.add_command(command)

for command in COMMANDS:
    pio.add_command(command)


def main(argv: list[str] | None = None) -> None:
    pio.main(args=argv, prog_name="pio")
