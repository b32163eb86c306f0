"""Command-line entry points: ``flask --app wsgi <command>``."""

from __future__ import annotations

import sys

import click
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models.audit import set_cli_actor
from app.models.user import Role, User, normalise_email


def register_cli(app: Flask) -> None:
    from app.backup import backup
    from app.catalogues.cli import catalogue
    from app.feeds.cli import feeds
    from app.notifications.cli import notify
    from app.seed import seed_demo_command, seed_synthetic_command
    from app.transfer.cli import export_command, import_command

    app.cli.add_command(users)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(seed_synthetic_command)
    app.cli.add_command(import_command)
    app.cli.add_command(export_command)
    app.cli.add_command(report_command)
    app.cli.add_command(backup)
    app.cli.add_command(notify)
    app.cli.add_command(feeds)
    app.cli.add_command(catalogue)


@click.group(help="Manage the people who can sign in.")
def users() -> None:
    set_cli_actor(None, "cli")


# The command line's name for each field the user rules refuse.
_OPTION_OF = {"email": "--email", "name": "--name", "password": "password"}


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in Role], case_sensitive=False),
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create a user who can sign in."""
    from app.admin import service
    from app.validation import InputError

    try:
        # The address is refused before a password is asked for.
        service.checked_email(email)
        service.checked_name(name)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        user = service.create_user(
            email=email, name=name, role=Role(role.lower()), password=password
        )
    except InputError as error:
        db.session.rollback()
        field, message = next(iter(error.errors.items()))
        raise click.BadParameter(message, param_hint=_OPTION_OF.get(field)) from None
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role.value}).")


@users.command("list")
def list_users() -> None:
    """List every user with role and status."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        status = "active" if user.is_active_account else "deactivated"
        click.echo(f"{user.email:<40} {user.role.value:<9} {status:<12} {user.name}")


@users.command("unlock")
@click.option("--email", required=True)
def unlock_user(email: str) -> None:
    """Lift a sign-in lockout (e.g. of the only administrator)."""
    from app.auth.service import unlock

    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"No user with email {email}.")
    if unlock(user):
        db.session.commit()
        click.echo(f"{user.email} is unlocked.")
    else:
        click.echo(f"{user.email} was not locked.")


@users.group("token", help="Personal API tokens.")
def token() -> None:
    pass


@token.command("create")
@click.option("--email", required=True)
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
@click.option("--expires-days", type=int, default=None, help="Days until it expires (none: never).")
def create_token_command(email: str, name: str, expires_days: int | None) -> None:
    """Create an API token for a user and print it (once: only its hash is kept)."""
    from app.auth.tokens import create_token
    from app.validation import InputError

    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"No user with email {email}.")
    if not user.is_active_account:
        raise click.ClickException(f"{user.email} is deactivated; a token would not work.")
    try:
        record, secret = create_token(user, name, expires_days)
    except InputError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    expiry = record.expires_at.strftime("%Y-%m-%d") if record.expires_at else "never"
    click.echo(f"Token for {user.email} ({user.role.value}), expires {expiry}:", err=True)
    click.echo(secret)


@click.command("report")
@click.option("--objective", "objective_title", default="Front Line Defenses", show_default=True)
@click.option("--quarter", "quarter_label", help="e.g. FY20-21 Q2 (default: last complete).")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option(
    "--appendix",
    type=click.Choice(["register"]),
    default=None,
    help="register: add every threat in force at the quarter end (A4 landscape).",
)
def report_command(
    objective_title: str, quarter_label: str | None, output: str, appendix: str | None
) -> None:
    """Write an objective's quarterly report as PDF (the published one if published)."""
    from app import fiscal
    from app.reports.service import (
        ReportNotFoundError,
        objective_by_title,
        parse_report_quarter,
        report_document,
    )
    from app.validation import InputError

    today = fiscal.today()
    try:
        label = quarter_label or fiscal.last_complete_quarter().label
        quarter = parse_report_quarter(label, fiscal.start_month(), today)
        objective = objective_by_title(objective_title, quarter.fiscal_year)
        document = report_document(objective, quarter, today, appendix)
    except (InputError, ReportNotFoundError) as error:
        raise click.ClickException(str(error)) from None
    with open(output, "wb") as handle:
        handle.write(document.pdf)
    state = "published" if document.published else "built from the live register"
    click.echo(f"Wrote {output}: {objective.title} {quarter.label}, {state}.")
