"""The migrations build exactly the schema the models describe, on this engine."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from tests.conftest import backend, create_pg_database, drop_pg_database


def test_migrations_match_models(tmp_path):
    if backend() == "postgresql":
        name, url = create_pg_database("frontline_migrations")
    else:
        name, url = None, f"sqlite:///{tmp_path / 'migrated.db'}"
    try:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(
                    conn, opts={"compare_type": True, "render_as_batch": True}
                )
                diff = compare_metadata(context, db.metadata)
            db.engine.dispose()
        assert diff == []
    finally:
        if name:
            drop_pg_database(name)
