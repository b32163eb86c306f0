"""Per-address limits: sign-in and failed tokens; Retry-After on every 429; trusted proxies;
the 403 and 429 pages."""

from __future__ import annotations

import contextlib

from sqlalchemy import select

from app import create_app
from app.auth.tokens import create_token
from app.extensions import db, limiter
from app.models.audit import AuditEntry
from app.models.user import Role
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD, IsolatedClient, sign_in


@contextlib.contextmanager
def _limit(app, name: str, value: str):
    old = app.config[name]
    app.config[name] = value
    try:
        yield
    finally:
        app.config[name] = old
        limiter.reset()


def test_the_sign_in_limit_answers_429_with_retry_after_and_a_way_forward(app, users):
    with _limit(app, "LOGIN_RATE_LIMIT", "3 per minute"):
        client = app.test_client()
        codes = [sign_in(client, ROLE_EMAILS[Role.VIEWER], "wrong").status_code for _ in range(3)]
        response = sign_in(client, ROLE_EMAILS[Role.VIEWER])
        other_address = client.post(
            "/login",
            data={"email": ROLE_EMAILS[Role.VIEWER], "password": TEST_PASSWORD},
            environ_base={"REMOTE_ADDR": "192.0.2.80"},
        )
    assert codes == [200, 200, 200]
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    page = response.get_data(as_text=True)
    assert "Too many attempts" in page and 'href="/login"' in page
    assert 'data-testid="error-page"' in page
    assert other_address.status_code == 302  # the limit is per address


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_failed_token_attempts_are_limited_per_address(app, client, users):
    _, secret = create_token(users[Role.VIEWER], "script")
    db.session.commit()
    with _limit(app, "TOKEN_FAILURE_LIMIT", "3 per minute"):
        # Good tokens do not count.
        assert [client.get("/api/v1/systems", headers=_bearer(secret)).status_code] * 5 == [200] * 5
        bad = [client.get("/api/v1/systems", headers=_bearer(f"fl_guess{n}")) for n in range(3)]
        blocked = client.get("/api/v1/systems", headers=_bearer(secret))
        elsewhere = client.get(
            "/api/v1/systems",
            headers=_bearer(secret),
            environ_base={"REMOTE_ADDR": "192.0.2.81"},
        )
    assert [r.status_code for r in bad] == [401, 401, 401]
    assert blocked.status_code == 429 and blocked.is_json
    assert "too many failed token attempts" in blocked.json["error"]
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    assert elsewhere.status_code == 200


def test_a_429_of_the_api_is_json_with_retry_after(app, client, users):
    with _limit(app, "TOKEN_FAILURE_LIMIT", "1 per minute"):
        client.get("/api/v1/systems", headers=_bearer("fl_wrong"))
        response = client.get("/api/v1/systems", headers=_bearer("fl_wrong"))
    assert response.status_code == 429 and response.json["status"] == 429
    assert response.headers["Retry-After"].isdigit()


def test_every_429_gets_retry_after(database_url):
    from werkzeug.exceptions import TooManyRequests

    other = _second_app(database_url)

    def raised():
        raise TooManyRequests()

    def returned():
        return "slow down", 429

    for view in (raised, returned):
        view.is_public = True
        other.add_url_rule(f"/__{view.__name__}", view.__name__, view)
        other.add_url_rule(f"/api/v1/__{view.__name__}", f"api_{view.__name__}", view)
    try:
        client = other.test_client()
        responses = [client.get(path) for path in ("/__raised", "/__returned", "/api/v1/__raised")]
    finally:
        with other.app_context():
            db.engine.dispose()
    for response in responses:
        assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert responses[2].is_json


def test_forbidden_page_in_the_apps_words(client_as):
    response = client_as(Role.VIEWER).get("/admin/users")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Leadership (read only)" in page and "ask an administrator" in page
    assert "Sign in as someone else" in page and "Back to the dashboard" in page
    assert "You don't have the permission" not in page


def test_forbidden_api_answer_is_json(client, users):
    _, secret = create_token(users[Role.VIEWER], "script")
    db.session.commit()
    response = client.post("/api/v1/threats", headers=_bearer(secret), json={"title": "x"})
    assert response.status_code == 403 and response.is_json
    assert "your role may not do this" in response.json["error"]


def _second_app(database_url: str, **overrides):
    other = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, **overrides)
    other.test_client_class = IsolatedClient
    return other


def _sign_in_address(app_under_test, forwarded: str) -> str:
    client = app_under_test.test_client()
    client.post(
        "/login",
        data={"email": ROLE_EMAILS[Role.MANAGER], "password": TEST_PASSWORD},
        headers={"X-Forwarded-For": forwarded},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    db.session.rollback()
    return db.session.scalar(
        select(AuditEntry.address)
        .where(AuditEntry.action == "sign-in")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


def test_the_forwarded_address_is_believed_only_from_trusted_proxies(app, database_url, users):
    # Off by default: a client cannot choose the address the limiter and the audit see.
    assert _sign_in_address(app, "203.0.113.50") == "127.0.0.1"
    behind_proxy = _second_app(database_url, TRUSTED_PROXIES=1)
    try:
        assert _sign_in_address(behind_proxy, "203.0.113.50") == "203.0.113.50"
        # One proxy trusted: only the address it added counts, not what the client sent.
        assert _sign_in_address(behind_proxy, "6.6.6.6, 203.0.113.51") == "203.0.113.51"
    finally:
        with behind_proxy.app_context():
            db.engine.dispose()


def test_the_limiter_keys_on_the_forwarded_address_behind_a_trusted_proxy(database_url, users):
    behind_proxy = _second_app(database_url, TRUSTED_PROXIES=1, LOGIN_RATE_LIMIT="2 per minute")
    try:
        client = behind_proxy.test_client()

        def attempt(address: str) -> int:
            return client.post(
                "/login",
                data={"email": ROLE_EMAILS[Role.VIEWER], "password": "wrong"},
                headers={"X-Forwarded-For": address},
            ).status_code

        codes = [attempt("203.0.113.60") for _ in range(3)]
        other = attempt("203.0.113.61")
    finally:
        limiter.reset()
        with behind_proxy.app_context():
            db.engine.dispose()
    # Every client behind the proxy has its own bucket, not one shared by all.
    assert codes == [200, 200, 429]
    assert other == 200
