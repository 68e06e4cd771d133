"""`flask --app leader users create|set-password|set-role|delete|list` and `setup code|complete`.

Passwords are asked for on the terminal (twice, hidden) or read from standard input with
`--password-stdin` (one line), never taken as an argument (it would land in shell history and `ps`).
Creating an admin completes setup. Changes are audited as `cli:<os user>`.
"""

from __future__ import annotations

import getpass
import sys

import click
from flask.cli import AppGroup

from cluster_schema.errors import ApiError
from cluster_schema.people import ROLES, check_password, check_user_name

from . import passwords, setup
from .db import audit, get_db, users

users_cli = AppGroup("users", help="Create users, set their passwords and roles, list them.")
setup_cli = AppGroup("setup", help="The first-run setup state and its one-time code.")


def actor() -> str:
    return f"cli:{getpass.getuser()}"


def _password(name: str, from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    try:
        return check_password(password, name, "password")
    except ApiError as exc:
        raise click.ClickException(exc.message) from None


@users_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(name: str, role: str, password_stdin: bool) -> None:
    """Create a user; an admin also completes setup."""
    try:
        check_user_name(name, "NAME")
        password = _password(name, password_stdin)
        users.create(get_db(), name, passwords.hash_password(password), role)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    audit.record(get_db(), actor(), "user.create", name, {"role": role})
    if role == "admin":
        setup.complete(get_db(), actor())
    click.echo(f"created {name} ({role})")


@users_cli.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_set_password(name: str, password_stdin: bool) -> None:
    """Change a password; ends the user's sessions."""
    try:
        users.get(get_db(), name)
        users.set_password(get_db(), name, passwords.hash_password(_password(name, password_stdin)))
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    audit.record(get_db(), actor(), "user.password", name)
    click.echo(f"password of {name} changed; their sessions ended")


@users_cli.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
def users_set_role(name: str, role: str) -> None:
    """Change a role (caps the user's tokens); ends the user's sessions."""
    try:
        before = users.get(get_db(), name).role
        users.set_role(get_db(), name, role)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    audit.record(get_db(), actor(), "user.role", name, {"from": before, "to": role})
    if role == "admin":
        setup.complete(get_db(), actor())
    click.echo(f"{name} is now {role}")


@users_cli.command("delete")
@click.argument("name")
def users_delete(name: str) -> None:
    """Remove a user (not the last admin); revokes their tokens."""
    try:
        users.delete(get_db(), name)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    audit.record(get_db(), actor(), "user.delete", name)
    click.echo(f"deleted {name}")


@users_cli.command("list")
def users_list() -> None:
    for user in users.list_users(get_db()):
        click.echo(f"{user.name}\t{user.role}\tlast sign-in {user.last_login_at or 'never'}")


@setup_cli.command("code")
def setup_code() -> None:
    """Print a new one-time setup code (the previous one stops working)."""
    if setup.is_complete(get_db()):
        raise click.ClickException("setup is complete: there is no setup code any more")
    click.echo(setup.new_code(get_db(), "cli"))


@setup_cli.command("status")
def setup_status() -> None:
    click.echo("complete" if setup.is_complete(get_db()) else "incomplete")
