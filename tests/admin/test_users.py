from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditEntry
from app.models.user import Role, User


def _count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_admin_creates_a_user_and_it_is_audited(client_as):
    admin = client_as(Role.ADMIN)
    response = admin.post(
        "/admin/users/new",
        data={
            "email": "new@test.example",
            "name": "New Person",
            "role": "security",
            "is_active_account": "y",
            "password": "long-enough-pw",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new@test.example"))
    assert user.role == Role.SECURITY
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "User", AuditEntry.entity_id == str(user.id)
        )
    )
    assert entry.action == "create"
    assert entry.actor == "admin@test.example"
    assert entry.new_values["role"] == "SECURITY"
    assert "password_hash" not in entry.new_values


def test_unknown_role_in_a_crafted_post_is_refused(client_as):
    admin = client_as(Role.ADMIN)
    before = _count_users()
    response = admin.post(
        "/admin/users/new",
        data={
            "email": "x@test.example",
            "name": "X",
            "role": "superuser",
            "password": "long-enough-pw",
        },
    )
    assert response.status_code == 200
    assert b"Not a valid choice" in response.data
    assert _count_users() == before


def test_duplicate_email_is_refused(client_as):
    admin = client_as(Role.ADMIN)
    before = _count_users()
    response = admin.post(
        "/admin/users/new",
        data={
            "email": "VIEWER@test.example",
            "name": "Dup",
            "role": "viewer",
            "password": "long-enough-pw",
        },
    )
    assert b"already exists" in response.data
    assert _count_users() == before


def test_edit_role_is_audited_with_old_and_new(client_as, users):
    admin = client_as(Role.ADMIN)
    viewer = users[Role.VIEWER]
    response = admin.post(
        f"/admin/users/{viewer.id}/edit",
        data={
            "email": viewer.email,
            "name": viewer.name,
            "role": "manager",
            "is_active_account": "y",
        },
    )
    assert response.status_code == 302
    entry = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_id == str(viewer.id), AuditEntry.action == "update"
        )
    ).one()
    assert entry.old_values == {"role": "VIEWER"}
    assert entry.new_values == {"role": "MANAGER"}


def test_deactivate_ends_sessions(app, client_as, users):
    viewer_client = client_as(Role.VIEWER)
    admin = client_as(Role.ADMIN)
    assert admin.post(f"/admin/users/{users[Role.VIEWER].id}/deactivate").status_code == 302
    assert viewer_client.get("/").status_code == 302


def test_admin_cannot_deactivate_themselves(client_as, users):
    admin = client_as(Role.ADMIN)
    assert admin.post(f"/admin/users/{users[Role.ADMIN].id}/deactivate").status_code == 400


def test_audit_log_filters_by_entity_and_user(client_as, users):
    admin = client_as(Role.ADMIN)
    admin.post(
        f"/admin/users/{users[Role.VIEWER].id}/edit",
        data={
            "email": "viewer@test.example",
            "name": "Renamed Viewer",
            "role": "viewer",
            "is_active_account": "y",
        },
    )
    page = admin.get(f"/admin/audit?entity=User&user={users[Role.ADMIN].id}")
    assert page.status_code == 200
    assert b"Renamed Viewer" in page.data
    nobody = admin.get(f"/admin/audit?user={users[Role.VIEWER].id}")
    assert b"No changes match." in nobody.data
    assert b"No changes match." not in page.data
    bad_date = admin.get("/admin/audit?start=2021-02-30")
    assert bad_date.status_code == 200
    assert b"Not a valid date value" in bad_date.data
