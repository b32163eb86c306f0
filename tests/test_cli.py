from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models.user import Role, User
from app.seed import credentials_file


def test_users_create_reads_password_from_stdin(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Cli@Test.Example",
            "--name",
            "Cli",
            "--role",
            "manager",
            "--password-stdin",
        ],
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "cli@test.example"))
    assert user.role == Role.MANAGER and user.check_password("a-long-password")
    listing = runner.invoke(args=["users", "list"])
    assert "cli@test.example" in listing.output


def test_users_create_refuses_short_password_and_bad_role(runner):
    short = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "a@test.example",
            "--name",
            "A",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        input="short\n",
    )
    assert short.exit_code != 0
    bad_role = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "a@test.example",
            "--name",
            "A",
            "--role",
            "root",
            "--password-stdin",
        ],
        input="a-long-password\n",
    )
    assert bad_role.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_seed_demo_loads_once_and_refuses_without_force(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_ENV", "development")
    credentials_file().unlink(missing_ok=True)
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "admin@frontline.example" in first.output
    assert credentials_file().exists()
    count = db.session.scalar(select(func.count()).select_from(User))
    assert count >= 4
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code != 0
    assert "already holds data" in second.output
    quiet = runner.invoke(args=["seed-demo", "--if-empty"])
    assert quiet.exit_code == 0
    forced = runner.invoke(args=["seed-demo", "--force"])
    assert forced.exit_code == 0, forced.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == count


def test_seed_demo_force_in_production_needs_the_explicit_flag(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_ENV", "production")
    credentials_file().unlink(missing_ok=True)
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert not credentials_file().exists()  # passwords are written to a file in development only
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN))
    admin.name = "Changed in production"
    db.session.commit()
    refused = runner.invoke(args=["seed-demo", "--force"])
    assert refused.exit_code != 0
    assert "--yes-delete-everything" in refused.output
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count()).select_from(User).where(User.name == "Changed in production")
        )
        == 1
    )
    confirmed = runner.invoke(args=["seed-demo", "--force", "--yes-delete-everything"])
    assert confirmed.exit_code == 0, confirmed.output
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count()).select_from(User).where(User.name == "Changed in production")
        )
        == 0
    )
    assert not credentials_file().exists()
