from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEntry
from app.models.user import Role, User
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD, sign_in


def test_sign_in_and_out(client, users):
    response = sign_in(client, ROLE_EMAILS[Role.MANAGER])
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_email_is_matched_without_case_or_spaces(client, users):
    response = sign_in(client, "  MANAGER@Test.Example ")
    assert response.status_code == 302


def test_wrong_password_and_unknown_email_give_the_same_message(client, users):
    wrong_password = sign_in(client, ROLE_EMAILS[Role.MANAGER], "not-the-password")
    unknown_email = sign_in(client, "nobody@test.example")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert b"do not match an active account" in response.data
    assert client.get("/").status_code == 302


def test_empty_email_shows_the_error_beside_the_field(client, users):
    response = client.post("/login", data={"email": "", "password": "x"})
    assert response.status_code == 200
    assert b'data-field-error="email"' in response.data
    assert b"Enter your email address." in response.data


def test_5000_character_password_is_refused_cleanly(client, users):
    before = db.session.scalar(select(db.func.count()).select_from(AuditEntry))
    response = client.post(
        "/login", data={"email": ROLE_EMAILS[Role.VIEWER], "password": "x" * 5000}
    )
    assert response.status_code == 200
    assert b"That password is too long." in response.data
    assert db.session.scalar(select(db.func.count()).select_from(AuditEntry)) == before


def test_open_redirect_is_refused(client, users):
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": ROLE_EMAILS[Role.VIEWER], "password": TEST_PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_deactivated_user_cannot_sign_in_and_loses_session(app, users):
    client = app.test_client()
    assert sign_in(client, ROLE_EMAILS[Role.SECURITY]).status_code == 302
    assert client.get("/").status_code == 200
    user = db.session.get(User, users[Role.SECURITY].id)
    user.is_active_account = False
    user.session_version += 1
    db.session.commit()
    assert client.get("/").status_code == 302
    again = sign_in(app.test_client(), ROLE_EMAILS[Role.SECURITY])
    assert again.status_code == 200 and b"do not match an active account" in again.data


def test_remember_me_sets_a_long_lived_cookie(client, users):
    response = sign_in(client, ROLE_EMAILS[Role.VIEWER], remember=True)
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert "remember_token=" in cookies
    assert "HttpOnly" in cookies


def test_session_cookie_is_httponly_and_lax(client, users):
    response = sign_in(client, ROLE_EMAILS[Role.VIEWER])
    session_cookie = [
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")
    ][0]
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


def test_change_password(app, users):
    client = app.test_client()
    other_device = app.test_client()
    sign_in(client, ROLE_EMAILS[Role.VIEWER])
    sign_in(other_device, ROLE_EMAILS[Role.VIEWER])
    response = client.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": "a-new-long-password",
            "confirm": "a-new-long-password",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other_device.get("/").status_code == 302
    assert (
        sign_in(app.test_client(), ROLE_EMAILS[Role.VIEWER], "a-new-long-password").status_code
        == 302
    )


def test_change_password_with_wrong_current_password_changes_nothing(client, users):
    sign_in(client, ROLE_EMAILS[Role.VIEWER])
    response = client.post(
        "/account/password",
        data={
            "current_password": "wrong",
            "new_password": "a-new-long-password",
            "confirm": "a-new-long-password",
        },
    )
    assert response.status_code == 200
    assert b"That is not your current password." in response.data
    user = db.session.get(User, users[Role.VIEWER].id)
    assert user.check_password(TEST_PASSWORD)


def test_repeated_failures_are_rate_limited(app, users):
    from app.extensions import limiter

    app.config["LOGIN_RATE_LIMIT"] = "5 per minute"
    try:
        client = app.test_client()
        codes = [sign_in(client, ROLE_EMAILS[Role.VIEWER], "wrong").status_code for _ in range(7)]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "100000 per minute"
        limiter.reset()
    assert codes[:5] == [200] * 5
    assert codes[5:] == [429, 429]
