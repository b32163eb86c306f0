"""Single sign-on against a real OpenID Connect provider on loopback (tests/oidc_provider.py)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditEntry
from app.models.sign_in_session import SignInSession
from app.models.user import Role, User
from tests.auth.sso_helpers import callback, provider_login, query_of, sign_in_sso, start
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD, sign_in


def _events(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _assert_refused_and_nothing_written(response, users_before: int = 0) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert 'data-testid="sso-refused"' in page
    assert "Nobody was signed in" in page
    assert _count(User) == users_before
    assert _count(SignInSession) == 0
    # The refusal itself is the only trace: no account, no session, no other event.
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions == ["sso-refused"]
    return page


def test_login_page_offers_the_provider_by_name(client, sso):
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with Loopback ID" in page


def test_first_sign_in_creates_the_user_with_the_role_from_their_groups(app, sso):
    sso.add("alice", "Alice@Corp.example", ["security-team", "everyone"], name="Alice Smith")
    client = app.test_client()
    authorize = start(client)
    asked = query_of(authorize)
    # Authorization code flow with PKCE (S256), a state and a nonce.
    assert asked["response_type"] == "code"
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) >= 43
    assert asked["state"] and asked["nonce"]
    assert "openid" in asked["scope"].split()

    response = callback(client, provider_login(authorize, "alice"))
    assert response.status_code == 302 and response.headers["Location"] == "/"

    alice = db.session.scalar(select(User).where(User.email == "alice@corp.example"))
    assert alice is not None
    assert (alice.name, alice.role) == ("Alice Smith", Role.SECURITY)
    (session_row,) = db.session.scalars(select(SignInSession)).all()
    assert session_row.user_id == alice.id and session_row.ended_at is None
    assert session_row.address == "127.0.0.1"
    (event,) = _events("sso-sign-in")
    assert event.entity_id == str(alice.id) and event.address == "127.0.0.1"
    # Signed in as a normal session.
    home = client.get("/")
    assert home.status_code == 200
    assert "Alice Smith" in home.get_data(as_text=True)
    # The provider's password is not a Frontline password.
    assert sign_in(app.test_client(), "alice@corp.example", "provider-password").status_code == 200


def test_a_group_change_moves_the_role_at_the_next_sign_in(app, sso):
    bob = sso.add("bob", "bob@corp.example", ["managers"])
    assert sign_in_sso(app.test_client(), "bob").status_code == 302
    user = db.session.scalar(select(User).where(User.email == "bob@corp.example"))
    assert user.role == Role.MANAGER
    assert _events("sso-role-change") == []

    bob.groups = ["security-team"]
    assert sign_in_sso(app.test_client(), "bob").status_code == 302
    db.session.refresh(user)
    assert user.role == Role.SECURITY
    (change,) = _events("sso-role-change")
    assert change.old_values == {"role": "MANAGER"} and change.new_values == {"role": "SECURITY"}
    assert "identity provider" in change.summary
    assert _count(User) == 1

    # Several mapped groups: the most capable role wins.
    bob.groups = ["managers", "it-admins"]
    sign_in_sso(app.test_client(), "bob")
    db.session.refresh(user)
    assert user.role == Role.ADMIN


def test_an_existing_account_is_matched_by_its_verified_email(app, users, sso):
    sso.add("viewer", ROLE_EMAILS[Role.VIEWER].upper(), ["managers"])
    before = _count(User)
    assert sign_in_sso(app.test_client(), "viewer").status_code == 302
    assert _count(User) == before
    db.session.refresh(users[Role.VIEWER])
    assert users[Role.VIEWER].role == Role.MANAGER


def test_no_mapped_group_is_refused_unless_there_is_a_default_role(app, sso):
    sso.add("carol", "carol@corp.example", ["marketing"])
    response = sign_in_sso(app.test_client(), "carol")
    assert "None of your groups" in _assert_refused_and_nothing_written(response)

    app.config["OIDC_DEFAULT_ROLE"] = "viewer"
    assert sign_in_sso(app.test_client(), "carol").status_code == 302
    carol = db.session.scalar(select(User).where(User.email == "carol@corp.example"))
    assert carol.role == Role.VIEWER


def test_a_wrong_state_is_refused_and_nothing_written(app, sso):
    sso.add("dave", "dave@corp.example", ["managers"])
    client = app.test_client()
    back = provider_login(start(client), "dave")
    params = query_of(back)
    forged = urlencode({"code": params["code"], "state": params["state"] + "x"})
    response = client.get(f"/login/sso/callback?{forged}")
    page = _assert_refused_and_nothing_written(response)
    assert "not valid for this sign-in" in page
    # A callback nobody started here (a link planted by someone else) does nothing either.
    other = app.test_client().get(f"/login/sso/callback?{urlencode(params)}")
    assert other.status_code == 403
    assert _count(User) == 0 and _count(SignInSession) == 0
    # The code the provider issued was never redeemed.
    assert sso.used_codes == []


def test_a_replayed_code_is_refused(app, sso):
    sso.add("erin", "erin@corp.example", ["managers"])
    first = app.test_client()
    back = provider_login(start(first), "erin")
    assert callback(first, back).status_code == 302
    assert _count(SignInSession) == 1
    code = query_of(back)["code"]

    # The same callback again in the same browser: its state is spent.
    assert callback(first, back).status_code == 403
    # The stolen code with a fresh, valid state of another browser: the provider refuses it.
    second = app.test_client()
    state = query_of(start(second))["state"]
    response = second.get(f"/login/sso/callback?{urlencode({'code': code, 'state': state})}")
    assert response.status_code == 403
    assert "Nobody was signed in" in response.get_data(as_text=True)
    assert _count(SignInSession) == 1 and _count(User) == 1
    refusals = _events("sso-refused")
    assert len(refusals) == 2
    assert "invalid_grant" in refusals[1].summary


def test_an_expired_id_token_is_refused_and_nothing_written(app, sso):
    sso.add("frank", "frank@corp.example", ["managers"])
    sso.misbehave["expired_id_token"] = True
    _assert_refused_and_nothing_written(sign_in_sso(app.test_client(), "frank"))
    (refusal,) = _events("sso-refused")
    assert "ExpiredToken" in refusal.summary


def test_a_wrongly_signed_id_token_is_refused_and_nothing_written(app, sso):
    sso.add("grace", "grace@corp.example", ["managers"])
    sso.misbehave["wrong_key"] = True
    page = _assert_refused_and_nothing_written(sign_in_sso(app.test_client(), "grace"))
    assert "could not be verified" in page
    (refusal,) = _events("sso-refused")
    assert "BadSignature" in refusal.summary


def test_a_missing_or_unverified_email_is_refused_and_nothing_written(app, sso):
    sso.add("heidi", None, ["managers"])
    page = _assert_refused_and_nothing_written(sign_in_sso(app.test_client(), "heidi"))
    assert "did not share an email address" in page

    db.session.execute(AuditEntry.__table__.delete())
    db.session.commit()
    sso.add("ivan", "ivan@corp.example", ["managers"], email_verified=False)
    page = _assert_refused_and_nothing_written(sign_in_sso(app.test_client(), "ivan"))
    assert "not verified" in page


def test_sign_out_ends_the_session_and_the_providers(app, sso):
    sso.add("judy", "judy@corp.example", ["managers"])
    client = app.test_client()
    sign_in_sso(client, "judy")
    response = client.post("/logout")
    assert response.status_code == 302
    target = response.headers["Location"]
    assert target.startswith(f"{sso.issuer}/logout?")
    asked = query_of(target)
    assert asked["post_logout_redirect_uri"] == "http://localhost/login"
    assert asked["id_token_hint"].count(".") == 2
    (row,) = db.session.scalars(select(SignInSession)).all()
    assert row.ended_at is not None
    assert client.get("/").status_code == 302


def test_password_sign_in_off_leaves_only_the_break_glass_administrator(app, users, sso):
    app.config.update(PASSWORD_SIGN_IN=False, BREAK_GLASS_ADMINS=ROLE_EMAILS[Role.ADMIN])
    try:
        page = app.test_client().get("/login").get_data(as_text=True)
        assert "Sign in with Loopback ID" in page and "Emergency administrator sign-in" in page
        refused = sign_in(app.test_client(), ROLE_EMAILS[Role.SECURITY])
        assert refused.status_code == 200
        assert "do not match an active account" in refused.get_data(as_text=True)
        (failure,) = _events("sign-in-failed")
        assert failure.new_values["reason"] == "password sign-in turned off"
        assert sign_in(app.test_client(), ROLE_EMAILS[Role.ADMIN], TEST_PASSWORD).status_code == 302
        # Single sign-on still works for everybody else.
        sso.add("sec", ROLE_EMAILS[Role.SECURITY], ["security-team"])
        assert sign_in_sso(app.test_client(), "sec").status_code == 302
    finally:
        app.config.update(PASSWORD_SIGN_IN=True, BREAK_GLASS_ADMINS="")


def test_the_callback_does_nothing_when_single_sign_on_is_not_configured(client):
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404
    assert client.get("/login/sso").status_code == 404
    assert "Sign in with" not in client.get("/login").get_data(as_text=True)


def test_an_account_with_two_factor_sign_in_still_gives_its_code_after_the_provider(
    app, client_as, users, sso
):
    import pyotp

    from app.auth import two_factor

    user = users[Role.SECURITY]
    secret = two_factor.new_secret()
    two_factor.enrol(user, secret, pyotp.TOTP(secret).at(time.time() - 30))
    db.session.commit()
    sso.add("sec", ROLE_EMAILS[Role.SECURITY], ["security-team"])
    client = app.test_client()
    response = sign_in_sso(client, "sec")
    assert response.headers["Location"] == "/login/second-step"
    assert client.get("/").status_code == 302
    assert _events("sso-sign-in") == []
    done = client.post("/login/second-step", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302
    (event,) = _events("sso-sign-in")
    assert event.entity_id == str(user.id)
    # Signing out still ends the provider's session.
    assert client.post("/logout").headers["Location"].startswith(f"{sso.issuer}/logout?")


def test_one_sign_in_attempt_at_a_time_per_browser(app, sso):
    sso.add("kim", "kim@corp.example", ["managers"])
    client = app.test_client()
    abandoned = provider_login(start(client), "kim")
    latest = provider_login(start(client), "kim")
    assert callback(client, abandoned).status_code == 403
    assert callback(client, latest).status_code == 302


def test_an_unreachable_provider_is_a_clear_page_not_an_error(app, sso):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config["OIDC_ISSUER"] = f"http://127.0.0.1:{port}"
    response = app.test_client().get("/login/sso")
    assert response.status_code == 503
    assert "could not be reached" in response.get_data(as_text=True)
    assert _count(User) == 0 and _count(SignInSession) == 0
