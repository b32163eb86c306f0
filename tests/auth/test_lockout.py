"""Per-account lockout: failures from any address count; back-off; admin unlock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models.audit import AuditEntry
from app.models.base import utcnow
from app.models.user import Role, User
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD


def _attempt(app, password: str, address: str, email: str = ROLE_EMAILS[Role.MANAGER]):
    # A new browser from a new address each time: only the account links the attempts.
    return app.test_client().post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _fail_ten_times(app):
    codes = [_attempt(app, f"guess-{n}", f"10.0.{n}.1").status_code for n in range(10)]
    # The tenth failure locks the account, and says so.
    assert codes == [200] * 9 + [429]


def test_the_11th_sign_in_from_another_address_is_refused_even_with_the_right_password(app, users):
    _fail_ten_times(app)
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": ROLE_EMAILS[Role.MANAGER], "password": TEST_PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= app.config["LOCKOUT_SECONDS"]
    assert "Too many failed sign-ins for this account" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    manager = db.session.get(User, users[Role.MANAGER].id)
    assert manager.failed_sign_ins == 10 and manager.locked_until is not None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "lockout"))
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "sign-in-locked"))
    # Other accounts are not affected.
    assert _attempt(app, TEST_PASSWORD, "10.9.9.9", ROLE_EMAILS[Role.VIEWER]).status_code == 302


def test_an_admin_unlocks_the_account(app, client_as, users):
    _fail_ten_times(app)
    manager = users[Role.MANAGER]
    admin = client_as(Role.ADMIN)
    listing = admin.get("/admin/users").get_data(as_text=True)
    assert "locked" in listing and f"/admin/users/{manager.id}/unlock" in listing
    response = admin.post(f"/admin/users/{manager.id}/unlock")
    assert response.status_code == 302
    event = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "unlock"))
    assert event.actor == "admin@test.example" and event.entity_id == str(manager.id)
    assert _attempt(app, TEST_PASSWORD, "10.9.9.9").status_code == 302


def test_unlocking_an_account_that_is_not_locked_changes_nothing(client_as, users):
    admin = client_as(Role.ADMIN)
    before = db.session.scalar(select(db.func.count()).select_from(AuditEntry))
    response = admin.post(f"/admin/users/{users[Role.VIEWER].id}/unlock")
    assert response.status_code == 302
    after = db.session.scalar(select(db.func.count()).select_from(AuditEntry))
    assert after == before


def test_the_lock_ends_and_the_next_failure_locks_for_twice_as_long(app, users):
    _fail_ten_times(app)
    manager_id = users[Role.MANAGER].id
    db.session.execute(
        update(User)
        .where(User.id == manager_id)
        .values(locked_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    response = _attempt(app, "still-guessing", "10.7.7.7")
    assert response.status_code == 429
    locked_until = db.session.get(User, manager_id).locked_until
    seconds = (locked_until.replace(tzinfo=utcnow().tzinfo) - utcnow()).total_seconds()
    assert 2 * app.config["LOCKOUT_SECONDS"] - 5 < seconds <= 2 * app.config["LOCKOUT_SECONDS"]


def test_a_successful_sign_in_resets_the_count(app, users):
    for n in range(9):
        _attempt(app, f"guess-{n}", f"10.1.{n}.1")
    assert _attempt(app, TEST_PASSWORD, "10.1.9.9").status_code == 302
    assert db.session.get(User, users[Role.MANAGER].id).failed_sign_ins == 0
    assert _attempt(app, "one-more-guess", "10.1.9.10").status_code == 200


def test_a_password_reset_by_an_admin_lifts_the_lock(app, client_as, users):
    _fail_ten_times(app)
    manager = users[Role.MANAGER]
    client_as(Role.ADMIN).post(
        f"/admin/users/{manager.id}/edit",
        data={
            "email": manager.email,
            "name": manager.name,
            "role": "manager",
            "is_active_account": "y",
            "password": "a-fresh-password",
        },
    )
    assert _attempt(app, "a-fresh-password", "10.9.9.9").status_code == 302


def test_the_command_line_unlocks_too(app, runner, users):
    _fail_ten_times(app)
    result = runner.invoke(args=["users", "unlock", "--email", ROLE_EMAILS[Role.MANAGER]])
    assert result.exit_code == 0 and "is unlocked" in result.output
    assert _attempt(app, TEST_PASSWORD, "10.9.9.9").status_code == 302
    again = runner.invoke(args=["users", "unlock", "--email", ROLE_EMAILS[Role.MANAGER]])
    assert "was not locked" in again.output
