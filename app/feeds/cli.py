"""``flask --app wsgi feeds fetch``: fetch every registered feed URL once, then exit."""

from __future__ import annotations

import click
from sqlalchemy import select

from app import fiscal
from app.extensions import db
from app.feeds.fetch import fetch_feed, fetchable
from app.models.audit import set_cli_actor
from app.models.base import utcnow
from app.models.notifications import NotificationRun
from app.models.threats import ThreatFeed
from app.notifications.lock import RunBusyError, run_lock


@click.group(help="Threat-intelligence feeds.")
def feeds() -> None:
    set_cli_actor(None, "feeds-fetch")


@feeds.command("fetch")
@click.option("--feed", "feed_id", type=int, help="Fetch only this feed (its id).")
def fetch_command(feed_id: int | None) -> None:
    """Fetch each STIX or TAXII feed with an http(s) URL; new objects become candidates."""
    query = select(ThreatFeed).order_by(ThreatFeed.name)
    if feed_id is not None:
        query = query.where(ThreatFeed.id == feed_id)
    targets = [f for f in db.session.scalars(query) if fetchable(f)]
    if feed_id is not None and not targets:
        raise click.ClickException(f"No STIX or TAXII feed with an http(s) URL has id {feed_id}.")
    errors = []
    try:
        with run_lock("feeds"):
            run = NotificationRun(kind="feeds", register_day=fiscal.today(), started_at=utcnow())
            db.session.add(run)
            db.session.commit()
            run_id = run.id
            ok = failed = 0
            for feed in targets:
                name = feed.name
                record = fetch_feed(feed, run_id)
                if record.outcome == "error":
                    failed += 1
                    errors.append(f"{name}: {record.error}")
                    click.echo(f"{name}: error: {record.error}")
                else:
                    ok += 1
                    if record.outcome == "not_modified":
                        click.echo(f"{name}: not modified")
                    else:
                        click.echo(
                            f"{name}: {record.new} new, {record.updated} updated, "
                            f"{record.unchanged} already known"
                        )
            run = db.session.get_one(NotificationRun, run_id)
            run.events, run.deliveries, run.failures = len(targets), ok, failed
            run.status = "error" if errors else "ok"
            run.error = "\n".join(errors)[:4000]
            run.finished_at = utcnow()
            db.session.commit()
    except RunBusyError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{len(targets)} feed(s) fetched, {len(errors)} with an error.")
    if errors:
        raise click.ClickException("; ".join(errors))
