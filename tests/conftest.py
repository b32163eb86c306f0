"""Fixtures: one app per test session, a clean database for every test.

The suite runs against SQLite by default and against PostgreSQL with
``TEST_DB=postgresql`` (a throw-away database is created and dropped here).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import uuid

import psycopg
import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from app import create_app, figure_cache
from app.extensions import db
from app.models.user import Role, User

PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_PASSWORD = "correct-horse-battery"
ROLE_EMAILS = {role: f"{role.value}@test.example" for role in Role}


def backend() -> str:
    return os.environ.get("TEST_DB", "sqlite")


def _pg_url(name: str) -> str:
    return (
        PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        + f"/{name}"
    )


def create_pg_database(prefix: str = "frontline_test") -> tuple[str, str]:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, _pg_url(name)


def drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if backend() == "postgresql":
        name, url = create_pg_database()
        yield url
        drop_pg_database(name)
    else:
        # A file, not :memory:, so the browser tests' server thread sees the same data.
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


class IsolatedClient(FlaskClient):
    """Runs each request outside the test's app context, as a real server would.

    Otherwise Flask reuses the test's context, and with it ``g`` (the signed-in user)
    and the database session, so requests would leak into one another.
    """

    def open(self, *args, **kwargs):
        # Buffered: a streamed body is read inside the request's own context, as a server does.
        kwargs.setdefault("buffered", True)
        response = contextvars.Context().run(super().open, *args, **kwargs)
        # End the test's own read transaction so it sees what the request committed.
        with contextlib.suppress(RuntimeError):  # a test without an app context
            db.session.rollback()
        return response


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    app.test_client_class = IsolatedClient
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_tables() -> None:
    figure_cache.clear()
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def app_context(app):
    """Each test runs in its own app context and leaves the database empty."""
    with app.app_context():
        yield
        db.session.rollback()
        _empty_tables()
        db.session.remove()


@pytest.fixture(scope="session")
def password_hash():
    return generate_password_hash(TEST_PASSWORD)


@pytest.fixture
def users(app_context, password_hash) -> dict[Role, User]:
    created = {}
    for role, email in ROLE_EMAILS.items():
        user = User(email=email, name=f"Test {role.value}", role=role, password_hash=password_hash)
        db.session.add(user)
        created[role] = user
    db.session.commit()
    return created


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def sign_in(client, email: str, password: str = TEST_PASSWORD, remember: bool = False):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)


@pytest.fixture
def client_as(app, users):
    """``client_as(Role.MANAGER)`` gives a test client signed in with that role."""
    # Ids now: a test may swap the database under the users (the backup drill).
    user_ids = {role: user.id for role, user in users.items()}

    def make(role: Role):
        # A session made the way the sign-in page makes one, minus the password check and
        # its audit event: tests counting audit rows count only what they do themselves.
        from app.auth.service import start_session

        client = app.test_client()
        user = db.session.get(User, user_ids[role])
        start_session(user, remember=False, address="127.0.0.1", user_agent="pytest", event=None)
        db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client

    return make


@pytest.fixture
def demo(app):
    """The whole demo (FY20-21 as of the Q2 review), every demo user with the test password."""
    from sqlalchemy import select

    from app.seed import load_demo

    previous = app.config.get("FRONTLINE_TODAY")
    app.config["FRONTLINE_TODAY"] = "2021-01-15"
    load_demo()
    for user in db.session.scalars(select(User)):
        user.set_password(TEST_PASSWORD)
    db.session.commit()
    yield
    app.config["FRONTLINE_TODAY"] = previous
