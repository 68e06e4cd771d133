"""`flask --app leader ...` commands: units, API tokens, the cluster token (`init-db` is in db.migrate;
users and setup are in leader.people_cli)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from cluster_schema.errors import ApiError
from cluster_schema.leader import UnitCreate
from cluster_schema.people import ROLES

from . import cluster_token
from .db import get_db
from .db import tokens as tokens_db
from .db import units as units_db

units_cli = AppGroup("units", help="Add, remove and list the cluster's units.")
tokens_cli = AppGroup("tokens", help="Create and revoke API tokens.")
cluster_token_cli = AppGroup("cluster-token", help="The token the agents accept.")


def _fail(exc: ApiError) -> None:
    raise click.ClickException(exc.message)


@units_cli.command("add")
@click.argument("name")
@click.option("--address", help="Host name or IP of the unit (default: its name).")
@click.option("--port", type=int, default=None, help="Port of the unit's agent (default: AGENT_PORT).")
@click.option("--model", default=None)
def units_add(name: str, address: str | None, port: int | None, model: str | None) -> None:
    try:
        body = UnitCreate(
            name=name, address=address, port=port or current_app.config["AGENT_PORT"], model=model
        ).validate()
        unit = units_db.add(get_db(), body.name, body.address, body.port, body.model)
    except ApiError as exc:
        _fail(exc)
    click.echo(f"added {unit.name} at {unit.address}:{unit.port}")


@units_cli.command("remove")
@click.argument("name")
def units_remove(name: str) -> None:
    try:
        units_db.remove(get_db(), name)
    except ApiError as exc:
        _fail(exc)
    click.echo(f"removed {name}")


@units_cli.command("list")
def units_list() -> None:
    for unit in units_db.list_units(get_db()):
        state = "active" if unit.active else "inactive"
        click.echo(f"{unit.name}\t{unit.address}:{unit.port}\t{state}\t{unit.presence}")


@tokens_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
def tokens_create(name: str, role: str) -> None:
    """Print a new API token (shown only this once); it belongs to no user."""
    from .db import audit
    from .people_cli import actor

    created = tokens_db.create(get_db(), name, role)
    audit.record(get_db(), actor(), "token.create", f"token:{created.id}", {"name": name, "role": role})
    click.echo(f"id {created.id}: {created.token}")


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    try:
        tokens_db.revoke(get_db(), token_id)
    except ApiError as exc:
        _fail(exc)
    from .db import audit
    from .people_cli import actor

    audit.record(get_db(), actor(), "token.revoke", f"token:{token_id}")
    click.echo(f"revoked {token_id}")


@cluster_token_cli.command("rotate")
@click.option("--force", is_flag=True, help="Switch even if some agents did not take the new token.")
def cluster_token_rotate(force: bool) -> None:
    """Push a new cluster token to every unit, then switch the leader to it."""
    from .operations import token_rotation

    outcome = token_rotation.rotate(force=force)
    for line in outcome.lines:
        click.echo(line)
    if not outcome.switched:
        raise click.ClickException("the leader still uses the old token (use --force to switch anyway)")


@cluster_token_cli.command("show-path")
def cluster_token_path() -> None:
    """Where the token is (copy it to each agent's configuration)."""
    path = current_app.config["CLUSTER_TOKEN_FILE"]
    cluster_token.read(path)
    click.echo(path)


def init_app(app: Flask) -> None:
    from .people_cli import setup_cli, users_cli

    for group in (units_cli, tokens_cli, cluster_token_cli, users_cli, setup_cli):
        app.cli.add_command(group)
