"""Deny by default: every route is walked signed out and as every role."""

from __future__ import annotations

import re

import pytest
from flask import current_app

from app.models.user import Role
from app.security import is_public_endpoint, required_roles_of

OPEN_ENDPOINTS = {
    "auth.login",
    "main.healthz",
    "static",
    "bootstrap.static",
    # The e-mailed unsubscribe link: its signed token names one user, and the page can only
    # turn that user's reminders off (tests/notifications/test_notify.py).
    "notifications.unsubscribe",
    # Half signed in: the page reads only the pending second step this browser's password
    # (or provider) sign-in left, and sends anybody else to /login (tests/auth/test_two_factor.py).
    "auth.second_step",
    # Single sign-on: starting only sends the browser to the provider; the provider's callback
    # refuses and writes no account or session without this browser's own state
    # (tests/auth/test_sso.py).
    "auth.sso_start",
    "auth.sso_callback",
}
# Walked signed out only: as a role they would end the walking client's session.
SIGN_OUT_ENDPOINTS = {"auth.logout", "auth.sign_out_everywhere"}


def _sample_url(rule) -> str:
    # Any value will do for the arguments: a missing record is a 404, never a 200.
    url = rule.rule
    for converter in re.findall(r"<([^>]+)>", url):
        kind = converter.split(":")[0] if ":" in converter else "string"
        url = url.replace(f"<{converter}>", "1" if kind == "int" else "x")
    return url


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in ("static", "bootstrap.static")]


def test_every_endpoint_declares_who_may_call_it(app):
    with app.test_request_context():
        undeclared = [
            (r.endpoint, method)
            for r in _rules(app)
            for method in r.methods
            if not is_public_endpoint(r.endpoint) and not required_roles_of(r.endpoint, method)
        ]
    assert undeclared == []


def test_only_login_and_health_check_are_public(app):
    with app.test_request_context():
        public = {r.endpoint for r in app.url_map.iter_rules() if is_public_endpoint(r.endpoint)}
    assert public <= OPEN_ENDPOINTS


def test_signed_out_requests_are_sent_to_login(app, client):
    for rule in _rules(app):
        if rule.endpoint in OPEN_ENDPOINTS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(_sample_url(rule), method=method)
            assert response.status_code in (302, 401), (rule.rule, method, response.status_code)
            if response.status_code == 302:
                assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", list(Role))
def test_roles_get_403_where_they_are_not_allowed(app, client_as, role):
    client = client_as(role)
    checked = 0
    for rule in _rules(app):
        if rule.endpoint in OPEN_ENDPOINTS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if rule.endpoint in SIGN_OUT_ENDPOINTS:
                continue
            with app.test_request_context():
                allowed = required_roles_of(rule.endpoint, method)
            response = client.open(_sample_url(rule), method=method)
            if role not in allowed:
                assert response.status_code == 403, (rule.rule, method, response.status_code)
                checked += 1
            else:
                assert response.status_code != 403, (rule.rule, method)
    if role != Role.ADMIN:
        assert checked > 0


def test_viewer_gets_403_on_admin_users_and_admin_gets_200(client_as):
    assert client_as(Role.VIEWER).get("/admin/users").status_code == 403
    assert client_as(Role.ADMIN).get("/admin/users").status_code == 200


def test_root_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_health_check_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_health_check_answers_503_when_the_database_is_unreachable(tmp_path):
    from app import create_app

    broken = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite"
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_security_headers_are_set(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_page_is_a_404_in_the_layout(client_as):
    response = client_as(Role.VIEWER).get("/no-such-page")
    assert response.status_code == 404
    assert b'data-testid="error-page"' in response.data
    assert current_app
