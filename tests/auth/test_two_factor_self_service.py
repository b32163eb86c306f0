"""Managing one's own two-factor sign-in: new recovery codes, turning it off, codes left."""

from __future__ import annotations

from sqlalchemy import func, select

from app.auth import two_factor
from app.extensions import db
from app.models.recovery_code import RecoveryCode
from app.models.user import Role, User
from tests.auth.test_two_factor import SECURITY, _code, _enrol, _events, _password_step, _wrong
from tests.conftest import TEST_PASSWORD


def _codes_on(page: str) -> list[str]:
    listed = page.split('data-testid="recovery-codes">')[1].split("</ul>")[0]
    return [c.strip() for c in listed.replace("<li>", "").split("</li>") if c.strip()]


def _stored_hashes() -> set[str]:
    return set(db.session.scalars(select(RecoveryCode.code_hash)))


def _security() -> User:
    user = db.session.scalar(select(User).where(User.email == SECURITY))
    assert user is not None
    db.session.refresh(user)
    return user


def test_new_recovery_codes_need_a_current_code_and_replace_the_old_ones(app, client_as, users):
    client = client_as(Role.SECURITY)
    secret, old = _enrol(client)
    assert "10 recovery codes left" in client.get("/account").get_data(as_text=True)
    hashes = _stored_hashes()

    wrong = client.post(
        "/account/two-factor/recovery-codes", data={"renew-code": _wrong(_code(secret))}
    )
    assert wrong.status_code == 200
    assert "That code is not right" in wrong.get_data(as_text=True)
    assert _stored_hashes() == hashes and _events("recovery-renew") == []

    code = _code(secret)
    made = client.post("/account/two-factor/recovery-codes", data={"renew-code": code})
    assert made.status_code == 200
    new = _codes_on(made.get_data(as_text=True))
    assert len(new) == 10 and len(set(new)) == 10 and not set(new) & set(old)
    assert len(_stored_hashes()) == 10 and not _stored_hashes() & hashes
    (event,) = _events("recovery-renew")
    assert event.user_id == users[Role.SECURITY].id and event.new_values == {"codes": 10}
    # The same code cannot make another set.
    again = client.post("/account/two-factor/recovery-codes", data={"renew-code": code})
    assert "used already" in again.get_data(as_text=True) and len(_events("recovery-renew")) == 1

    # An old code no longer signs in; a new one does, once.
    other, _ = _password_step(app)
    refused = other.post("/login/second-step", data={"code": old[0]})
    assert refused.status_code == 200 and other.get("/").status_code == 302
    assert other.post("/login/second-step", data={"code": new[0]}).status_code == 302
    page = other.get("/account").get_data(as_text=True)
    assert "9 recovery codes left" in page.split('data-testid="account-codes-left"')[1][:60]
    assert "9 recovery codes left" in other.get("/account/two-factor").get_data(as_text=True)


def test_turning_two_factor_off_needs_a_code_or_the_password(app, client_as, users):
    client = client_as(Role.SECURITY)
    secret, _ = _enrol(client)

    empty = client.post("/account/two-factor/off", data={})
    assert "Enter a code from your app, or your password." in empty.get_data(as_text=True)
    wrong = client.post(
        "/account/two-factor/off",
        data={"off-code": _wrong(_code(secret)), "off-password": "not the password"},
    )
    assert "Neither the code nor the password is right." in wrong.get_data(as_text=True)
    assert _security().has_two_factor and _events("mfa-off") == []

    off = client.post("/account/two-factor/off", data={"off-password": TEST_PASSWORD})
    assert off.status_code == 302 and off.headers["Location"] == "/account"
    user = _security()
    assert not user.has_two_factor and user.totp_secret is None
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    (event,) = _events("mfa-off")
    assert event.new_values == {"confirmed_with": "password"}
    assert event.user_id == user.id
    assert "recovery codes left" not in client.get("/account").get_data(as_text=True)
    # The next sign-in is by password alone.
    _, response = _password_step(app)
    assert response.headers["Location"] == "/"

    # On again, and off with a code from the app this time.
    secret, _ = _enrol(client)
    off = client.post("/account/two-factor/off", data={"off-code": _code(secret)})
    assert off.status_code == 302 and not _security().has_two_factor
    assert [e.new_values for e in _events("mfa-off")][-1] == {"confirmed_with": "code"}


def test_a_role_that_requires_two_factor_cannot_turn_it_off(app, client_as, users):
    client = client_as(Role.SECURITY)
    secret, _ = _enrol(client)
    two_factor.set_required_roles({Role.SECURITY})
    db.session.commit()

    page = client.get("/account/two-factor").get_data(as_text=True)
    section = page.split('data-testid="two-factor-off"')[1]
    assert "requires two-factor sign-in, so it stays on" in section
    assert "off-password" not in section
    refused = client.post(
        "/account/two-factor/off", data={"off-code": _code(secret), "off-password": TEST_PASSWORD}
    )
    assert refused.status_code == 200
    assert "cannot be turned off" in refused.get_data(as_text=True)
    user = _security()
    assert user.has_two_factor and _events("mfa-off") == []
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 10
    # New recovery codes are still theirs to make.
    made = client.post("/account/two-factor/recovery-codes", data={"renew-code": _code(secret)})
    assert len(_codes_on(made.get_data(as_text=True))) == 10


def test_managing_two_factor_needs_a_sign_in_and_an_enrolment(app, client_as, users):
    anonymous = app.test_client()
    for path in ("/account/two-factor/recovery-codes", "/account/two-factor/off"):
        response = anonymous.post(path, data={})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    # Not enrolled: nothing to manage, sent to the set-up page, nothing written.
    client = client_as(Role.MANAGER)
    for path in ("/account/two-factor/recovery-codes", "/account/two-factor/off"):
        response = client.post(path, data={"off-password": TEST_PASSWORD})
        assert response.headers["Location"] == "/account/two-factor"
    assert _events("mfa-off") == [] and _events("recovery-renew") == []


def test_wrong_codes_and_passwords_here_count_toward_the_lockout(app, client_as, users):
    client = client_as(Role.SECURITY)
    secret, _ = _enrol(client)
    hashes = _stored_hashes()
    app.config["LOCKOUT_THRESHOLD"] = 3
    try:
        bad = _wrong(_code(secret))
        for _ in range(2):
            response = client.post("/account/two-factor/recovery-codes", data={"renew-code": bad})
            assert response.status_code == 200
        locked = client.post("/account/two-factor/off", data={"off-password": "a guess"})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        reasons = [e.new_values["reason"] for e in _events("sign-in-failed")]
        assert reasons == [
            "wrong code to replace recovery codes",
            "wrong code to replace recovery codes",
            "wrong code or password to turn off two-factor",
        ]
        assert len(_events("lockout")) == 1
        # Locked: even the right code and the right password change nothing now.
        assert (
            client.post(
                "/account/two-factor/recovery-codes", data={"renew-code": _code(secret)}
            ).status_code
            == 429
        )
        assert (
            client.post("/account/two-factor/off", data={"off-password": TEST_PASSWORD}).status_code
            == 429
        )
        assert _security().has_two_factor and _stored_hashes() == hashes
        assert _events("recovery-renew") == [] and _events("mfa-off") == []
    finally:
        app.config["LOCKOUT_THRESHOLD"] = 10
