"""Two-factor sign-in: enrolment, the second step, recovery codes, required roles, reset."""

from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditEntry
from app.models.recovery_code import RecoveryCode
from app.models.setting import Setting
from app.models.sign_in_session import SignInSession
from app.models.user import Role, User
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD, sign_in

SECURITY = ROLE_EMAILS[Role.SECURITY]


def _events(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def _code(secret: str, steps_from_now: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_from_now)


def _wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def _enrol(client) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on through the account page; the secret and recovery codes."""
    page = client.get("/account/two-factor")
    assert page.status_code == 200
    with client.session_transaction() as session:
        secret = session["two_factor_setup_secret"]
    # The previous step: the sign-in that follows uses the current one.
    response = client.post("/account/two-factor", data={"code": _code(secret, -1)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="recovery-codes"' in html
    codes = html.split('data-testid="recovery-codes">')[1].split("</ul>")[0]
    recovery = [c.strip() for c in codes.replace("<li>", "").split("</li>") if c.strip()]
    return secret, recovery


@pytest.fixture
def enrolled(client_as, users):
    """The security user with two-factor sign-in on: (secret, recovery codes)."""
    return _enrol(client_as(Role.SECURITY))


def _password_step(app, email=SECURITY, remember=False):
    client = app.test_client()
    response = sign_in(client, email, remember=remember)
    return client, response


def test_enrolment_shows_a_qr_code_drawn_here_and_ten_recovery_codes_once(client_as, users):
    client = client_as(Role.SECURITY)
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" in page.split('data-testid="qr-code"')[1][:200]
    assert "http" not in page.split('data-testid="qr-code"')[1].split("</div>")[0].replace(
        "http://www.w3.org", ""
    )
    with client.session_transaction() as session:
        secret = session["two_factor_setup_secret"]
    wrong = client.post("/account/two-factor", data={"code": _wrong(_code(secret))})
    assert "That code does not match" in wrong.get_data(as_text=True)
    user = users[Role.SECURITY]
    db.session.refresh(user)
    assert not user.has_two_factor

    secret_again, recovery = _enrol(client)
    assert secret_again == secret
    assert len(recovery) == 10 and len(set(recovery)) == 10
    db.session.refresh(user)
    assert user.has_two_factor and user.totp_secret == secret
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(stored) & set(recovery)
    (event,) = _events("mfa-enrol")
    assert event.entity_id == str(user.id)
    # The secret never reaches the audit log.
    assert secret not in str([(e.old_values, e.new_values, e.summary) for e in _events("update")])
    # Shown once: the page now only says it is on.
    again = client.get("/account/two-factor").get_data(as_text=True)
    assert 'data-testid="two-factor-on"' in again and recovery[0] not in again


def test_sign_in_asks_for_the_code_and_grants_nothing_before_it(app, enrolled):
    secret, _ = enrolled
    client, response = _password_step(app)
    assert response.status_code == 302 and response.headers["Location"] == "/login/second-step"
    sessions_before = db.session.scalar(select(func.count()).select_from(SignInSession))
    # Half signed in: every page still sees nobody.
    for path in ("/", "/account", "/threats", "/account/two-factor", "/api/v1/threats"):
        refused = client.get(path)
        assert refused.status_code in (302, 401), path
        if refused.status_code == 302:
            assert refused.headers["Location"].startswith("/login")
    assert client.post("/account/sign-out-everywhere").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SignInSession)) == sessions_before

    done = client.post("/login/second-step", data={"code": _code(secret)})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    (event,) = _events("sign-in")
    assert event.address == "127.0.0.1"


def test_the_second_step_needs_a_password_first(client, enrolled):
    response = client.get("/login/second-step")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.post("/login/second-step", data={"code": "123456"}).status_code == 302


def test_a_wrong_code_and_a_reused_code_are_refused(app, enrolled):
    secret, _ = enrolled
    client, _ = _password_step(app)
    code = _code(secret)
    wrong = client.post("/login/second-step", data={"code": _wrong(code)})
    assert wrong.status_code == 200
    assert "That code is not right" in wrong.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert client.post("/login/second-step", data={"code": code}).status_code == 302

    # The same code again, on another device straight after: refused.
    other, _ = _password_step(app)
    reused = other.post("/login/second-step", data={"code": code})
    assert reused.status_code == 200 and "used already" in reused.get_data(as_text=True)
    assert other.get("/").status_code == 302
    user = db.session.scalar(select(User).where(User.email == SECURITY))
    assert user.failed_sign_ins == 1  # the success in between cleared the first
    reasons = [e.new_values["reason"] for e in _events("sign-in-failed")]
    assert reasons == ["wrong two-factor code", "wrong two-factor code"]
    # The next code is good, and clears the count.
    assert other.post("/login/second-step", data={"code": _code(secret, 1)}).status_code == 302
    db.session.refresh(user)
    assert user.failed_sign_ins == 0


def test_a_recovery_code_works_once(app, enrolled):
    _, recovery = enrolled
    client, _ = _password_step(app)
    used = client.post("/login/second-step", data={"code": recovery[3].upper()})
    assert used.status_code == 302
    assert "9 left" in client.get("/").get_data(as_text=True)
    (event,) = _events("recovery-code")
    assert event.new_values == {"left": 9}

    again, _ = _password_step(app)
    refused = again.post("/login/second-step", data={"code": recovery[3]})
    assert refused.status_code == 200 and again.get("/").status_code == 302
    assert again.post("/login/second-step", data={"code": recovery[4]}).status_code == 302


def test_remember_me_does_not_skip_the_second_factor_on_a_new_device(app, enrolled):
    secret, _ = enrolled
    first, response = _password_step(app, remember=True)
    assert response.headers["Location"] == "/login/second-step"
    assert first.post("/login/second-step", data={"code": _code(secret)}).status_code == 302
    (row,) = db.session.scalars(select(SignInSession).where(SignInSession.remember)).all()
    assert row.user.email == SECURITY

    second, response = _password_step(app, remember=True)
    assert response.headers["Location"] == "/login/second-step"
    assert second.get("/").status_code == 302


def test_failed_second_steps_count_toward_the_lockout(app, enrolled):
    secret, _ = enrolled
    app.config["LOCKOUT_THRESHOLD"] = 3
    try:
        waiting, _ = _password_step(app)  # half signed in here while another device guesses
        client, _ = _password_step(app)
        bad = _wrong(_code(secret))
        assert client.post("/login/second-step", data={"code": bad}).status_code == 200
        assert client.post("/login/second-step", data={"code": bad}).status_code == 200
        # The right password again does not clear the count of wrong codes.
        client, response = _password_step(app)
        assert response.status_code == 302
        locked = client.post("/login/second-step", data={"code": bad})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        assert "Too many failed sign-ins" in locked.get_data(as_text=True)
        assert len(_events("lockout")) == 1
        # The browser still half signed in cannot finish either, even with the right code.
        refused = waiting.post("/login/second-step", data={"code": _code(secret)})
        assert refused.status_code == 429 and waiting.get("/").status_code == 302
        assert len(_events("sign-in-locked")) == 1
        # Locked: neither the password nor the right code signs in now.
        client, response = _password_step(app)
        assert response.status_code == 429
        assert client.post("/login/second-step", data={"code": _code(secret)}).status_code == 302
        assert client.get("/").status_code == 302
    finally:
        app.config["LOCKOUT_THRESHOLD"] = 10


def test_a_role_that_requires_two_factor_forces_enrolment_first(app, client_as, users):
    admin = client_as(Role.ADMIN)
    saved = admin.post("/admin/two-factor", data={"security": "y", "admin": "y"})
    assert saved.status_code == 302
    setting = db.session.get(Setting, "mfa_required_roles")
    assert setting.value == ["admin", "security"]
    assert any(e.entity_type == "Setting" for e in _events("create"))

    # The administrator who saved it is sent to enrolment too.
    assert admin.get("/admin/users").headers["Location"] == "/account/two-factor"
    security = client_as(Role.SECURITY)
    for path in ("/", "/threats", "/account", "/account/tokens"):
        response = security.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/account/two-factor"
    assert security.post("/account/tokens", data={"name": "x"}).status_code == 302
    page = security.get("/account/two-factor").get_data(as_text=True)
    assert 'data-testid="two-factor-required"' in page
    # Other roles carry on.
    assert client_as(Role.MANAGER).get("/threats").status_code == 200

    _enrol(security)
    assert security.get("/threats").status_code == 200


def test_an_administrator_resets_a_users_enrolment(app, client_as, users, enrolled):
    admin = client_as(Role.ADMIN)
    user = users[Role.SECURITY]
    assert "Reset two-factor" in admin.get("/admin/users").get_data(as_text=True)
    assert admin.post(f"/admin/users/{user.id}/reset-two-factor").status_code == 302
    db.session.refresh(user)
    assert not user.has_two_factor and user.totp_secret is None
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    (event,) = _events("mfa-reset")
    assert event.entity_id == str(user.id) and event.user_id == users[Role.ADMIN].id
    # The next sign-in is by password alone, until they enrol again.
    client, response = _password_step(app)
    assert response.headers["Location"] == "/"
    # Resetting twice changes nothing more.
    admin.post(f"/admin/users/{user.id}/reset-two-factor")
    assert len(_events("mfa-reset")) == 1


def test_only_administrators_reach_the_two_factor_rules(client_as, users):
    assert client_as(Role.SECURITY).get("/admin/two-factor").status_code == 403
    assert client_as(Role.ADMIN).get("/admin/two-factor").status_code == 200
    assert (
        client_as(Role.SECURITY).post(f"/admin/users/{users[Role.VIEWER].id}/reset-two-factor")
    ).status_code == 403


def test_password_sign_in_without_enrolment_is_unchanged(app, users):
    client = app.test_client()
    assert sign_in(client, SECURITY, TEST_PASSWORD).headers["Location"] == "/"
