"""API tokens die with a password change or reset, a deactivation and a role change;
administrators see and revoke everyone's; use is recorded cheaply."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.auth.tokens import create_token
from app.extensions import db
from app.models.api_token import ApiToken
from app.models.audit import AuditEntry
from app.models.base import utcnow
from app.models.user import Role, User
from tests.conftest import TEST_PASSWORD


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def _token_for(user: User, name: str = "script") -> tuple[ApiToken, str]:
    token, secret = create_token(user, name)
    db.session.commit()
    return token, secret


def _api_status(client, secret: str) -> int:
    return client.get("/api/v1/systems", headers=_bearer(secret)).status_code


def _edit(admin, user: User, **changes):
    data = {
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "is_active_account": "y",
        "password": "",
    }
    data.update(changes)
    if data["is_active_account"] is None:
        del data["is_active_account"]
    return admin.post(f"/admin/users/{user.id}/edit", data=data)


def test_a_token_is_refused_after_its_owner_changes_their_password(client, client_as, users):
    _, secret = _token_for(users[Role.VIEWER])
    assert _api_status(client, secret) == 200
    response = client_as(Role.VIEWER).post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": "another-long-password",
            "confirm": "another-long-password",
        },
    )
    assert response.status_code == 302
    response = client.get("/api/v1/systems", headers=_bearer(secret))
    assert response.status_code == 401 and response.json["error"] == "this API token is revoked"
    event = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "token-revoke"))
    assert event.new_values["reason"] == "password changed"


def test_a_token_is_refused_after_an_admin_resets_the_password(client, client_as, users):
    _, secret = _token_for(users[Role.MANAGER])
    response = _edit(client_as(Role.ADMIN), users[Role.MANAGER], password="a-reset-password")
    assert response.status_code == 302
    assert _api_status(client, secret) == 401
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "password-reset"))


def test_a_token_stays_refused_after_deactivation_and_reactivation(client, client_as, users):
    manager = users[Role.MANAGER]
    _, secret = _token_for(manager)
    admin = client_as(Role.ADMIN)
    assert admin.post(f"/admin/users/{manager.id}/deactivate").status_code == 302
    assert _api_status(client, secret) == 401
    assert _edit(admin, manager, is_active_account="y").status_code == 302
    assert db.session.get(User, manager.id).is_active_account
    response = client.get("/api/v1/systems", headers=_bearer(secret))
    assert response.status_code == 401 and response.json["error"] == "this API token is revoked"
    # A token made after the reactivation works.
    _, fresh = _token_for(db.session.get(User, manager.id), "new")
    assert _api_status(client, fresh) == 200


def test_deactivating_through_the_edit_form_revokes_too(client, client_as, users):
    security = users[Role.SECURITY]
    _, secret = _token_for(security)
    admin = client_as(Role.ADMIN)
    assert _edit(admin, security, is_active_account=None).status_code == 302
    assert _edit(admin, security, is_active_account="y").status_code == 302
    assert _api_status(client, secret) == 401


def test_a_role_change_revokes_the_tokens_and_is_audited(client, client_as, users):
    viewer = users[Role.VIEWER]
    _, secret = _token_for(viewer)
    assert _edit(client_as(Role.ADMIN), viewer, role="manager").status_code == 302
    assert _api_status(client, secret) == 401
    event = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "role-change"))
    assert (event.old_values, event.new_values) == ({"role": "VIEWER"}, {"role": "MANAGER"})
    assert event.actor == "admin@test.example" and event.entity_id == str(viewer.id)


def test_saving_a_user_without_changes_keeps_their_tokens(client, client_as, users):
    viewer = users[Role.VIEWER]
    _, secret = _token_for(viewer)
    assert _edit(client_as(Role.ADMIN), viewer).status_code == 302
    assert _api_status(client, secret) == 200


def test_admins_see_every_users_tokens_and_revoke_any(client, client_as, users):
    viewer_token, viewer_secret = _token_for(users[Role.VIEWER], "viewer export")
    _, security_secret = _token_for(users[Role.SECURITY], "feed import")
    client.get("/api/v1/systems", headers=_bearer(viewer_secret))
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == viewer_token.id)
        .values(expires_at=utcnow() + timedelta(days=9))
    )
    db.session.commit()
    admin = client_as(Role.ADMIN)
    page = admin.get("/admin/tokens").get_data(as_text=True)
    assert "viewer export" in page and "feed import" in page
    assert "viewer@test.example" in page and "security@test.example" in page
    used = db.session.get(ApiToken, viewer_token.id).last_used_at
    assert used.strftime("%Y-%m-%d %H:%M") in page
    assert (utcnow() + timedelta(days=9)).strftime("%Y-%m-%d") in page
    assert viewer_secret not in page and security_secret not in page
    response = admin.post(f"/admin/tokens/{viewer_token.id}/revoke")
    assert response.status_code == 302
    assert _api_status(client, viewer_secret) == 401
    assert _api_status(client, security_secret) == 200
    assert "viewer export" not in _table(admin.get("/admin/tokens"))
    assert "viewer export" in _table(admin.get("/admin/tokens?state=all"))
    event = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "token-revoke"))
    assert event.actor == "admin@test.example"
    assert event.entity_id == str(users[Role.VIEWER].id)


def _table(response) -> str:
    return response.get_data(as_text=True).split('data-testid="admin-tokens"')[1]


def test_revoking_an_unknown_token_is_a_404(client_as):
    assert client_as(Role.ADMIN).post("/admin/tokens/999/revoke").status_code == 404


def test_last_use_is_written_at_most_once_a_minute(client, users):
    token, secret = _token_for(users[Role.VIEWER])
    assert _api_status(client, secret) == 200
    first = db.session.get(ApiToken, token.id).last_used_at
    assert first is not None
    recent = utcnow() - timedelta(seconds=30)
    db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=recent))
    db.session.commit()
    _api_status(client, secret)
    stored = db.session.get(ApiToken, token.id).last_used_at
    assert stored.replace(tzinfo=recent.tzinfo) == recent  # within the minute: no write
    old = utcnow() - timedelta(minutes=2)
    db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=old))
    db.session.commit()
    _api_status(client, secret)
    stored = db.session.get(ApiToken, token.id).last_used_at
    assert stored.replace(tzinfo=old.tzinfo) > old + timedelta(minutes=1)


def test_token_creation_first_use_and_revocation_are_audited(client, client_as, users):
    owner = client_as(Role.SECURITY)
    page = owner.post("/account/tokens", data={"name": "ci"}).get_data(as_text=True)
    secret = page.split('user-select-all">')[1].split("<")[0]
    token = db.session.scalar(select(ApiToken))
    for _ in range(3):
        client.get("/api/v1/systems", headers=_bearer(secret))
    owner.post(f"/account/tokens/{token.id}/revoke")
    events = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "Authentication", AuditEntry.action.like("token-%"))
        .order_by(AuditEntry.id)
    ).all()
    assert events == ["token-create", "token-first-use", "token-revoke"]
