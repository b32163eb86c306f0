"""Sessions end on the server: sign-out, sign out everywhere, idle timeout, lifetime."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models.audit import AuditEntry
from app.models.base import utcnow
from app.models.sign_in_session import SignInSession
from app.models.user import Role
from tests.conftest import ROLE_EMAILS, sign_in


def _cookie(client, name: str) -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _client_with(app, name: str, value: str):
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def _signed_in(client) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_session_cookie_saved_before_sign_out_is_refused_after_it(app, users):
    client = app.test_client()
    assert sign_in(client, ROLE_EMAILS[Role.MANAGER]).status_code == 302
    saved = _cookie(client, "session")
    assert _signed_in(_client_with(app, "session", saved))
    assert client.post("/logout").status_code == 302
    assert not _signed_in(client)
    assert not _signed_in(_client_with(app, "session", saved))
    row = db.session.scalar(select(SignInSession))
    assert row.ended_at is not None and row.end_reason == "signed out"


def test_a_remember_me_cookie_saved_before_sign_out_is_refused_after_it(app, users):
    client = app.test_client()
    sign_in(client, ROLE_EMAILS[Role.VIEWER], remember=True)
    remembered = _cookie(client, "remember_token")
    assert _signed_in(_client_with(app, "remember_token", remembered))
    client.post("/logout")
    assert not _signed_in(_client_with(app, "remember_token", remembered))


def test_signing_out_one_browser_keeps_the_others(app, users):
    first, second = app.test_client(), app.test_client()
    sign_in(first, ROLE_EMAILS[Role.VIEWER])
    sign_in(second, ROLE_EMAILS[Role.VIEWER])
    first.post("/logout")
    assert not _signed_in(first)
    assert _signed_in(second)


def test_sign_out_everywhere_ends_every_session_and_remember_cookie(app, users):
    here, laptop, phone = app.test_client(), app.test_client(), app.test_client()
    sign_in(here, ROLE_EMAILS[Role.SECURITY])
    sign_in(laptop, ROLE_EMAILS[Role.SECURITY])
    sign_in(phone, ROLE_EMAILS[Role.SECURITY], remember=True)
    remembered = _cookie(phone, "remember_token")
    page = here.get("/account").get_data(as_text=True)
    assert page.count("<tr>") == 4 and "this browser" in page  # header + three sessions
    response = here.post("/account/sign-out-everywhere")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for client in (here, laptop, phone, _client_with(app, "remember_token", remembered)):
        assert not _signed_in(client)
    assert db.session.scalar(select(db.func.count()).where(SignInSession.ended_at.is_(None))) == 0
    event = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "sign-out-all"))
    assert event.entity_id == str(users[Role.SECURITY].id)
    assert sign_in(app.test_client(), ROLE_EMAILS[Role.SECURITY]).status_code == 302


def _age_sessions(**changes) -> None:
    db.session.execute(update(SignInSession).values(**changes))
    db.session.commit()


def test_a_session_idle_longer_than_the_timeout_ends(app, users):
    client = app.test_client()
    sign_in(client, ROLE_EMAILS[Role.VIEWER])
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    _age_sessions(last_seen_at=utcnow() - idle + timedelta(minutes=5))
    assert _signed_in(client)  # used within the timeout: still signed in, and touched
    touched = db.session.scalar(select(SignInSession.last_seen_at))
    assert utcnow() - touched.replace(tzinfo=utcnow().tzinfo) < timedelta(minutes=1)
    _age_sessions(last_seen_at=utcnow() - idle - timedelta(minutes=1))
    assert not _signed_in(client)
    row = db.session.scalar(select(SignInSession))
    assert row.end_reason == "idle timeout"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "session-expired"))


def test_the_idle_timeout_is_configurable(app, users):
    client = app.test_client()
    sign_in(client, ROLE_EMAILS[Role.VIEWER])
    _age_sessions(last_seen_at=utcnow() - timedelta(minutes=20))
    app.config["SESSION_IDLE_MINUTES"] = 15
    try:
        assert not _signed_in(client)
    finally:
        app.config["SESSION_IDLE_MINUTES"] = 8 * 60


def test_remember_me_outlives_the_idle_timeout_but_not_its_lifetime(app, users):
    client = app.test_client()
    sign_in(client, ROLE_EMAILS[Role.VIEWER], remember=True)
    remembered = _cookie(client, "remember_token")
    _age_sessions(
        last_seen_at=utcnow() - timedelta(days=3), created_at=utcnow() - timedelta(days=3)
    )
    assert _signed_in(_client_with(app, "remember_token", remembered))
    lifetime = timedelta(days=app.config["REMEMBER_ME_DAYS"])
    _age_sessions(created_at=utcnow() - lifetime - timedelta(minutes=1))
    assert not _signed_in(_client_with(app, "remember_token", remembered))
    assert db.session.scalar(select(SignInSession.end_reason)) == "lifetime reached"


def test_remember_cookie_lasts_the_configured_days(app, users):
    response = sign_in(app.test_client(), ROLE_EMAILS[Role.VIEWER], remember=True)
    cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
    expires = cookie[0].split("Expires=")[1].split(";")[0]
    from email.utils import parsedate_to_datetime

    days = (parsedate_to_datetime(expires) - utcnow()).total_seconds() / 86400
    assert app.config["REMEMBER_ME_DAYS"] - 1 < days <= app.config["REMEMBER_ME_DAYS"]


def test_a_cookie_for_a_made_up_session_key_is_refused(app, users):
    client = app.test_client()
    sign_in(client, ROLE_EMAILS[Role.ADMIN])
    with client.session_transaction() as session:
        user_id, version, _key = session["_user_id"].split(":")
        session["_user_id"] = f"{user_id}:{version}:not-a-real-key"
    assert not _signed_in(client)
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:{version}"  # the format before sessions were kept
    assert not _signed_in(client)


def test_sessions_past_their_lifetime_are_cleared_at_the_next_sign_in(app, users):
    sign_in(app.test_client(), ROLE_EMAILS[Role.VIEWER])
    _age_sessions(created_at=utcnow() - timedelta(days=app.config["REMEMBER_ME_DAYS"] + 1))
    sign_in(app.test_client(), ROLE_EMAILS[Role.VIEWER])
    assert db.session.scalar(select(db.func.count()).select_from(SignInSession)) == 1
