"""Backup and restore of the whole database: ``flask --app wsgi backup create|restore FILE``.

SQLite is copied page by page through sqlite3's online backup API (consistent while the app
serves); PostgreSQL through ``pg_dump``/``pg_restore`` in the custom format. Either file
carries the database's Alembic revision (its ``alembic_version`` table), so a restore can
refuse a file written by a newer schema than this code knows. A PostgreSQL restore runs as
one transaction: it either replaces everything or leaves the database as it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import URL

from app.config import BASE_DIR
from app.extensions import db


class BackupError(click.ClickException):
    """A backup or restore that cannot go ahead; the message says what to do."""


@dataclass(frozen=True)
class BackupInfo:
    engine: str  # "sqlite" or "postgresql"
    revision: str | None  # the Alembic revision the data was written with


# ---------------------------------------------------------------- schema revisions


def known_revisions() -> set[str]:
    scripts = ScriptDirectory(str(BASE_DIR / "migrations"))
    return {revision.revision for revision in scripts.walk_revisions()}


def head_revision() -> str | None:
    return ScriptDirectory(str(BASE_DIR / "migrations")).get_current_head()


# ---------------------------------------------------------------- engines


def _engine_url() -> URL:
    return db.engine.url


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(url.database)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on PATH. Install the PostgreSQL client tools of the server's major "
            "version (Debian: apt-get install postgresql-client) and try again."
        )
    return found


def _pg_connection(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string (no password in it) and the environment that carries it."""
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return libpq, env


def _run(command: list[str], env: dict[str, str] | None = None, **kwargs):
    result = subprocess.run(command, env=env, capture_output=True, **kwargs)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        raise BackupError(f"{Path(command[0]).name} failed: {message}")
    return result


# ---------------------------------------------------------------- reading a backup


def backup_info(path: Path) -> BackupInfo:
    """What a backup file holds: its engine and schema revision (BackupError if unreadable)."""
    if not path.is_file():
        raise BackupError(f"There is no file {path}.")
    with path.open("rb") as handle:
        magic = handle.read(16)
    if magic.startswith(b"SQLite format 3"):
        return BackupInfo("sqlite", _sqlite_file_revision(path))
    if magic.startswith(b"PGDMP"):
        return BackupInfo("postgresql", _pg_dump_revision(path))
    raise BackupError(f"{path} is not a Frontline backup (neither SQLite nor pg_dump custom).")


def _sqlite_file_revision(path: Path) -> str | None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        if row is None:
            return None
        found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return found[0] if found else None
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database: {error}") from None
    finally:
        connection.close()


def _pg_dump_revision(path: Path) -> str | None:
    listing = _run(
        [_pg_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(path)]
    ).stdout.decode()
    lines = listing.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line:
            value = lines[index + 1].strip() if index + 1 < len(lines) else "\\."
            return None if value == "\\." else value
    return None


# ---------------------------------------------------------------- create


def create_backup(path: Path) -> BackupInfo:
    """Write the whole database to ``path`` (replaced only once the copy is complete)."""
    url = _engine_url()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if url.get_backend_name() == "sqlite":
            source = sqlite3.connect(str(_sqlite_path(url)))
            target = sqlite3.connect(str(partial))
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        elif url.get_backend_name() == "postgresql":
            libpq, env = _pg_connection(url)
            _run(
                [
                    _pg_tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--file={partial}",
                    f"--dbname={libpq}",
                ],
                env=env,
            )
        else:
            raise BackupError(f"Backups of {url.get_backend_name()} are not supported.")
        partial.chmod(0o600)  # it holds every user's password hash
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return backup_info(path)


# ---------------------------------------------------------------- restore


def check_restorable(info: BackupInfo) -> None:
    engine = _engine_url().get_backend_name()
    if info.engine != engine:
        raise BackupError(
            f"This backup is of a {info.engine} database; the configured database is {engine}. "
            "Restore it into the same kind of database it came from."
        )
    if info.revision is not None and info.revision not in known_revisions():
        raise BackupError(
            f"This backup was written by a newer version of Frontline (schema revision "
            f"{info.revision}, unknown here; this code's newest is {head_revision()}). Install "
            "that version, or a later one, before restoring it."
        )


def restore_backup(path: Path) -> BackupInfo:
    """Replace the whole database with the backup at ``path``."""
    info = backup_info(path)
    check_restorable(info)
    url = _engine_url()
    db.session.remove()
    db.engine.dispose()  # nothing of this process keeps the old data open
    if info.engine == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(str(_sqlite_path(url)), timeout=30)
        try:
            source.backup(target)  # one write transaction: all pages or none
        finally:
            target.close()
            source.close()
    else:
        _restore_postgresql(path, url)
    return info


def _restore_postgresql(path: Path, url: URL) -> None:
    # The dump as SQL, after emptying the schema, all in one transaction: a failure anywhere
    # leaves the database as it was, and tables the backup lacks do not linger.
    libpq, env = _pg_connection(url)
    script = _run(
        [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(path)]
    ).stdout
    prologue = b"DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n"
    _run(
        [
            _pg_tool("psql"),
            "--quiet",
            "--no-psqlrc",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            f"--dbname={libpq}",
            "--file=-",
        ],
        env=env,
        input=prologue + script,
    )


# ---------------------------------------------------------------- commands


@click.group(help="Back up the whole database to a file, or restore it from one.")
def backup() -> None:
    pass


@backup.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def create_command(file: Path) -> None:
    """Write a backup of the whole database to FILE."""
    info = create_backup(file)
    size = file.stat().st_size
    click.echo(
        f"Backed up the {info.engine} database to {file} ({size:,} bytes, schema revision "
        f"{info.revision or 'not recorded: the database was not built by migrations'})."
    )


@backup.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask: replace the database without a prompt.")
@with_appcontext
def restore_command(file: Path, yes: bool) -> None:
    """Replace the whole database with the backup in FILE (stop the app first)."""
    info = backup_info(file)
    check_restorable(info)
    where = _engine_url().render_as_string(hide_password=True)
    if not yes:
        click.confirm(
            f"Replace EVERYTHING in {where} (users, register, audit log) with {file}?",
            abort=True,
        )
    restore_backup(file)
    click.echo(f"Restored {file} into {where} (schema revision {info.revision or 'unknown'}).")
    if info.revision is not None and info.revision != head_revision():
        click.echo("The backup is from an older schema: run `flask --app wsgi db upgrade` next.")
    if current_app.config.get("FRONTLINE_ENV") == "production":
        click.echo("Start the app again (systemctl start frontline) and sign in to check it.")
