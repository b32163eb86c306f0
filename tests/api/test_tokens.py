"""Personal API tokens: created once, stored hashed, revoked or expired -> 401."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.auth.tokens import create_token
from app.extensions import db
from app.models.api_token import ApiToken, hash_token
from app.models.base import utcnow
from app.models.user import Role


def _bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def test_token_is_stored_only_as_its_hash(users):
    token, secret = create_token(users[Role.VIEWER], "script", 30)
    db.session.commit()
    assert secret.startswith("fl_") and len(secret) > 40
    stored = db.session.get(ApiToken, token.id)
    assert stored.token_hash == hash_token(secret) and secret not in stored.token_hash
    assert stored.expires_at is not None


def test_token_page_shows_the_secret_once_and_lists_it(client_as):
    client = client_as(Role.MANAGER)
    response = client.post("/account/tokens", data={"name": "nightly", "expires_days": "7"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="new-token"' in page
    secret = page.split('user-select-all">')[1].split("<")[0]
    assert secret.startswith("fl_")
    again = client.get("/account/tokens").get_data(as_text=True)
    assert "nightly" in again and secret not in again
    assert client.get("/api/v1/systems", headers=_bearer(secret)).status_code == 200


def test_token_form_refuses_a_bad_expiry_and_writes_nothing(client_as):
    client = client_as(Role.MANAGER)
    response = client.post("/account/tokens", data={"name": "x", "expires_days": "0"})
    assert "Use 1 to 3650 days." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_revoked_token_gets_401_and_writes_nothing(client, client_as, users):
    token, secret = create_token(users[Role.SECURITY], "ci")
    db.session.commit()
    assert client.get("/api/v1/threats", headers=_bearer(secret)).status_code == 200
    response = client_as(Role.SECURITY).post(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 302
    response = client.get("/api/v1/threats", headers=_bearer(secret))
    assert response.status_code == 401
    assert response.json["error"] == "this API token is revoked"
    response = client.post("/api/v1/threats", headers=_bearer(secret), json={"title": "x"})
    assert response.status_code == 401 and response.is_json


def test_someone_else_cannot_revoke_my_token(client_as, users):
    token, _ = create_token(users[Role.SECURITY], "ci")
    db.session.commit()
    assert client_as(Role.MANAGER).post(f"/account/tokens/{token.id}/revoke").status_code == 404
    assert db.session.get(ApiToken, token.id).revoked_at is None


def test_expired_unknown_and_malformed_tokens_get_401(client, users):
    token, secret = create_token(users[Role.VIEWER], "old", 1)
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get("/api/v1/systems", headers=_bearer(secret))
    assert (response.status_code, response.json["error"]) == (401, "this API token is expired")
    assert client.get("/api/v1/systems", headers=_bearer("fl_nope")).status_code == 401
    assert client.get("/api/v1/systems", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/systems").status_code == 401


def test_token_of_a_deactivated_user_gets_401(client, users):
    _, secret = create_token(users[Role.MANAGER], "ci")
    users[Role.MANAGER].is_active_account = False
    db.session.commit()
    response = client.get("/api/v1/systems", headers=_bearer(secret))
    assert response.status_code == 401 and "deactivated" in response.json["error"]


def test_token_records_when_it_was_last_used(client, users):
    token, secret = create_token(users[Role.VIEWER], "ci")
    db.session.commit()
    client.get("/api/v1/systems", headers=_bearer(secret))
    assert db.session.get(ApiToken, token.id).last_used_at is not None


def test_token_carries_its_users_role(client, users):
    _, secret = create_token(users[Role.VIEWER], "ci")
    db.session.commit()
    # A token opens no web page (only /api/v1 and a few downloads).
    assert client.get("/admin/users", headers=_bearer(secret)).status_code == 403


def test_a_bad_token_wins_over_a_signed_in_cookie(client_as):
    client = client_as(Role.ADMIN)
    assert client.get("/api/v1/systems").status_code == 200  # reading with the session
    assert client.get("/api/v1/systems", headers=_bearer("fl_bad")).status_code == 401


def test_cli_creates_a_token_printed_once(runner, users):
    result = runner.invoke(
        args=["users", "token", "create", "--email", "viewer@test.example", "--expires-days", "5"]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("fl_")
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash == hash_token(secret) and stored.expires_at is not None


def test_cli_refuses_an_unknown_email(runner, users):
    result = runner.invoke(args=["users", "token", "create", "--email", "nobody@x.example"])
    assert result.exit_code != 0 and "No user" in result.output
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
