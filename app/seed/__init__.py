"""Demo and synthetic data.

``seed-demo`` tells the story of the seed deck (FY20-21, Q2 reported); each area adds
a step to ``DEMO_STEPS``. ``seed-synthetic`` fills the database at a chosen size for
benchmarks.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models.audit import set_cli_actor
from app.models.user import Role, User
from app.seed import catalogues as demo_catalogues
from app.seed import countermeasures as demo_countermeasures
from app.seed import coverage as demo_coverage
from app.seed import okrs as demo_okrs
from app.seed import threats as demo_threats
from app.seed import users as demo_users

# Each step takes the demo context (a dict it may read and extend) and adds rows.
DEMO_STEPS = [demo_users.load, demo_coverage.load, demo_threats.load, demo_countermeasures.load]
# Catalogue mappings read the threats and countermeasures loaded above.
DEMO_STEPS.append(demo_catalogues.load)
# The OKRs come last: their register figures read what every other step loaded.
DEMO_STEPS.append(demo_okrs.load)


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def empty_database() -> None:
    # Children before parents so foreign keys hold on both engines.
    for table in reversed(db.metadata.sorted_tables):
        if table.name != "alembic_version":
            db.session.execute(delete(table))
    db.session.commit()


def credentials_file() -> Path:
    return Path(current_app.instance_path) / "demo-logins.txt"


def load_demo() -> dict:
    """Load the whole demo; returns the context the steps built (with the passwords)."""
    set_cli_actor(None, "seed-demo")
    context: dict = {"passwords": {}}
    for step in DEMO_STEPS:
        step(context)
        db.session.flush()
    db.session.commit()
    return context


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Empty the database first, then load the demo.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when data is there.")
@click.option(
    "--yes-delete-everything",
    is_flag=True,
    help="In production, confirm that --force may delete every user, record and audit row.",
)
def seed_demo_command(force: bool, if_empty: bool, yes_delete_everything: bool) -> None:
    """Load the demo data (FY20-21, as in the quarterly review deck)."""
    production = current_app.config.get("FRONTLINE_ENV") == "production"
    if not database_is_empty():
        if if_empty and not force:
            path = credentials_file()
            where = f" Demo sign-ins, if the demo was loaded here: {path}" if path.exists() else ""
            click.echo(f"The database already holds data; the demo was not loaded again.{where}")
            return
        if not force:
            raise click.ClickException(
                "The database already holds data; the demo is only loaded into an empty one. "
                "Use --force to empty it first (everything in it is deleted)."
            )
        if production and not yes_delete_everything:
            raise click.ClickException(
                "This is a production database (FRONTLINE_ENV=production): --force would delete "
                "every user, record and the audit log. Take a backup first "
                "(flask --app wsgi backup create FILE), then add --yes-delete-everything."
            )
        empty_database()
    context = load_demo()
    lines = [f"{email:<32} {password}" for email, password in context["passwords"].items()]
    click.echo("Demo data loaded. Sign in (make run prints the address once it serves) with:")
    for line in lines:
        click.echo(f"  {line}")
    if current_app.config.get("FRONTLINE_ENV") != "development":
        # Passwords on disk are a convenience of a developer's machine only.
        return
    path = credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("Frontline demo sign-ins (email, password)\n" + "\n".join(lines) + "\n")
    path.chmod(0o600)
    click.echo(f"(also kept in {path})")


def demo_password() -> str:
    return secrets.token_urlsafe(9)


@click.command("seed-synthetic")
@click.option("--seed", default=1, show_default=True, help="Random seed, for reproducible data.")
@click.option("--users", "user_count", default=20, show_default=True)
@click.option("--systems", default=100, show_default=True, help="Systems (85% in production).")
@click.option("--staff", default=60, show_default=True, help="Staff members.")
@click.option("--responsibilities", default=250, show_default=True)
@click.option("--positions", default=10, show_default=True, help="SPOF hiring positions.")
@click.option("--countermeasures", default=0, show_default=True, help="Countermeasures to add.")
@click.option("--threats", default=0, show_default=True, help="Threats, with score history.")
def seed_synthetic_command(seed: int, user_count: int, **sizes: int) -> None:
    """Fill the database with synthetic data at a chosen size (for benchmarks)."""
    from app.seed.synthetic import fill

    set_cli_actor(None, "seed-synthetic")
    fill(seed=seed, users=user_count, **sizes)


__all__ = ["DEMO_STEPS", "Role", "load_demo", "empty_database", "demo_password"]
