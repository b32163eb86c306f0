"""``flask --app wsgi notify run``: one pass of reminders, then exit (for cron or a timer)."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app

from app import fiscal
from app.models.audit import set_cli_actor
from app.notifications.lock import RunBusyError


def base_url() -> str:
    # Links in e-mails and webhooks point here (no request to read the host from).
    return current_app.config.get("FRONTLINE_BASE_URL") or "http://localhost:5000"


def _today(value: str | None) -> date:
    if not value:
        return fiscal.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--today") from None


@click.group(help="E-mail digests and webhooks about what needs someone.")
def notify() -> None:
    set_cli_actor(None, "notify")


@notify.command("run")
@click.option(
    "--today", "today_text", help="The register's day (default: today, or FRONTLINE_TODAY)."
)
@click.option("--no-webhooks", is_flag=True, help="Send the e-mail digests only.")
def run_command(today_text: str | None, no_webhooks: bool) -> None:
    """Send each person one digest of what is new, changed or a week old; post the webhooks."""
    from app.notifications.service import notify as notify_pass

    today = _today(today_text)
    with current_app.test_request_context(base_url=base_url()):
        try:
            summary = notify_pass(today, with_webhooks=not no_webhooks)
        except RunBusyError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"Reminders for {today.isoformat()}: {summary}")
    if summary.errors:
        raise click.ClickException("; ".join(summary.errors))
