"""The restore drill, on the suite's engine: demo → backup → changes → restore → as before."""

from __future__ import annotations

import sqlite3

import pytest
from flask_migrate import stamp
from sqlalchemy import select, text

from app import figure_cache
from app.backup import backup_info, head_revision
from app.extensions import db
from app.models.threats import Threat
from app.models.user import Role, User
from app.seed import load_demo
from app.threats import service, settings
from tests.conftest import backend


def _everything() -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: the state a restore must bring back."""
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        state[table.name] = sorted((tuple(row) for row in rows), key=repr)
    db.session.rollback()
    return state


@pytest.fixture
def migrated(app):
    """The test database stamped with the newest revision, as `db upgrade` leaves one."""
    stamp(directory=str(app.root_path + "/../migrations"))
    yield
    db.session.remove()
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.session.commit()


def test_the_restore_drill_brings_back_register_audit_log_and_users(
    app, runner, client_as, users, migrated, tmp_path
):
    admin_id = users[Role.ADMIN].id
    load_demo()
    before = _everything()
    assert before["audit_entries"] and before["threats"] and len(before["users"]) > 4
    file = tmp_path / "frontline.backup"

    created = runner.invoke(args=["backup", "create", str(file)])
    assert created.exit_code == 0, created.output
    assert backup_info(file).revision == head_revision()

    # Changes after the backup: an edit, a new record, a new user (all audited).
    threat = db.session.scalars(select(Threat).order_by(Threat.id)).first()
    threat_id = threat.id
    service.update_threat(threat, title="Changed after the backup", author_id=admin_id)
    settings.save_category("Added after the backup")
    db.session.add(
        User(email="late@test.example", name="Late", role=Role.VIEWER, password_hash="x")
    )
    db.session.commit()
    assert _everything() != before

    unconfirmed = runner.invoke(args=["backup", "restore", str(file)], input="n\n")
    assert unconfirmed.exit_code != 0
    assert db.session.scalar(select(User.id).where(User.email == "late@test.example"))

    restored = runner.invoke(args=["backup", "restore", str(file), "--yes"])
    assert restored.exit_code == 0, restored.output
    figure_cache.clear()
    assert _everything() == before
    # And the app serves from the restored database.
    client = client_as(Role.VIEWER)
    assert client.get("/threats").status_code == 200
    assert client.get(f"/threats/{threat_id}").status_code == 200


def test_a_backup_from_a_newer_schema_is_refused(app, runner, users, migrated, tmp_path):
    file = tmp_path / "newer.backup"
    db.session.execute(text("UPDATE alembic_version SET version_num = 'fffffffffff0'"))
    db.session.commit()
    assert runner.invoke(args=["backup", "create", str(file)]).exit_code == 0
    db.session.execute(text(f"UPDATE alembic_version SET version_num = '{head_revision()}'"))
    db.session.add(
        User(email="kept@test.example", name="Kept", role=Role.VIEWER, password_hash="x")
    )
    db.session.commit()

    refused = runner.invoke(args=["backup", "restore", str(file), "--yes"])
    assert refused.exit_code != 0
    assert "newer version of Frontline" in refused.output
    assert "fffffffffff0" in refused.output
    assert db.session.scalar(select(User.id).where(User.email == "kept@test.example"))


def test_a_file_that_is_not_a_backup_is_refused(runner, users, tmp_path):
    file = tmp_path / "notes.txt"
    file.write_text("not a database")
    refused = runner.invoke(args=["backup", "restore", str(file), "--yes"])
    assert refused.exit_code != 0
    assert "is not a Frontline backup" in refused.output
    assert runner.invoke(args=["backup", "restore", str(tmp_path / "missing")]).exit_code != 0


@pytest.mark.skipif(backend() != "postgresql", reason="the PostgreSQL tools")
def test_missing_postgresql_tools_are_named(runner, users, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    failed = runner.invoke(args=["backup", "create", str(tmp_path / "x.backup")])
    assert failed.exit_code != 0
    assert "pg_dump is not on PATH" in failed.output


@pytest.mark.skipif(backend() != "sqlite", reason="the SQLite file format")
def test_a_sqlite_backup_is_a_plain_database_file(runner, users, tmp_path):
    file = tmp_path / "frontline.db"
    assert runner.invoke(args=["backup", "create", str(file)]).exit_code == 0
    with sqlite3.connect(file) as copy:
        assert copy.execute("SELECT count(*) FROM users").fetchone()[0] == len(users)
