"""Sign-ins, failures, sign-outs and password changes in the audit log, with the address."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEntry
from app.models.user import Role
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD


def _post_login(client, email, password, address):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _events(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "Authentication", AuditEntry.action == action)
            .order_by(AuditEntry.id)
        )
    )


def test_failed_and_successful_sign_ins_are_logged_with_the_address(app, users):
    manager = users[Role.MANAGER]
    client = app.test_client()
    _post_login(client, ROLE_EMAILS[Role.MANAGER], "wrong-password", "198.51.100.7")
    _post_login(client, "nobody@test.example", "whatever-it-is", "198.51.100.8")
    assert (
        _post_login(client, ROLE_EMAILS[Role.MANAGER], TEST_PASSWORD, "198.51.100.9").status_code
        == 302
    )
    client.post("/logout", environ_base={"REMOTE_ADDR": "198.51.100.9"})

    wrong, unknown = _events("sign-in-failed")
    assert (wrong.address, wrong.entity_id, wrong.actor) == (
        "198.51.100.7",
        str(manager.id),
        "anonymous",
    )
    assert wrong.new_values["reason"] == "wrong password"
    assert (unknown.address, unknown.entity_id) == ("198.51.100.8", "-")
    assert unknown.new_values == {"email": "nobody@test.example", "reason": "unknown email"}
    (success,) = _events("sign-in")
    assert (success.address, success.user_id, success.entity_id) == (
        "198.51.100.9",
        manager.id,
        str(manager.id),
    )
    (sign_out,) = _events("sign-out")
    assert (sign_out.address, sign_out.user_id) == ("198.51.100.9", manager.id)


def test_a_password_change_is_logged(client_as, users):
    client = client_as(Role.VIEWER)
    client.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": "another-long-password",
            "confirm": "another-long-password",
        },
    )
    (event,) = _events("password-change")
    assert event.user_id == users[Role.VIEWER].id and event.address == "127.0.0.1"
    assert "password_hash" not in str(event.new_values)


def test_the_audit_page_filters_authentication_events(app, users):
    _post_login(app.test_client(), ROLE_EMAILS[Role.VIEWER], "wrong-password", "203.0.113.5")
    admin = app.test_client()
    _post_login(admin, ROLE_EMAILS[Role.ADMIN], TEST_PASSWORD, "203.0.113.6")
    page = admin.get("/admin/audit?entity=Authentication&action=sign-in-failed")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "203.0.113.5" in text and "wrong password" in text
    assert "admin@test.example signed in" not in text
    everything = admin.get("/admin/audit?entity=Authentication").get_data(as_text=True)
    assert "admin@test.example signed in" in everything and "wrong password" in everything
    by_address = admin.get("/admin/audit?address=203.0.113.5").get_data(as_text=True)
    assert "wrong password" in by_address and "admin@test.example signed in" not in by_address
    account = admin.get(
        f"/admin/audit?entity=Authentication&entity_id={users[Role.VIEWER].id}"
    ).get_data(as_text=True)
    assert "wrong password" in account and "admin@test.example signed in" not in account


def test_register_changes_also_carry_the_address(client_as):
    admin = client_as(Role.ADMIN)
    admin.post(
        "/admin/users/new",
        data={
            "email": "new@test.example",
            "name": "New",
            "role": "viewer",
            "is_active_account": "y",
            "password": "long-enough-pw",
        },
        environ_base={"REMOTE_ADDR": "192.0.2.44"},
    )
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "User", AuditEntry.action == "create")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    assert entry.new_values["email"] == "new@test.example"
    assert entry.address == "192.0.2.44"


def test_a_nul_byte_in_the_email_is_a_failed_sign_in_not_an_error(app, users):
    response = _post_login(app.test_client(), "viewer@test.example\x00", "whatever", "192.0.2.9")
    assert response.status_code == 200
    (event,) = _events("sign-in-failed")
    assert "\x00" not in event.summary and event.new_values["reason"] == "unknown email"
