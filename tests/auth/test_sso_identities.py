"""Single sign-on accounts are bound to the provider's issuer and subject, not to an email."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditEntry
from app.models.sign_in_session import SignInSession
from app.models.sso_identity import SsoIdentity
from app.models.user import Role, User
from tests.auth.sso_helpers import sign_in_sso
from tests.conftest import ROLE_EMAILS


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def test_the_first_sign_in_binds_the_account_to_the_providers_subject(app, sso):
    sso.add("alice", "alice@corp.example", ["security-team"])
    assert sign_in_sso(app.test_client(), "alice").status_code == 302
    alice = _user("alice@corp.example")
    (identity,) = db.session.scalars(select(SsoIdentity)).all()
    assert (identity.user_id, identity.subject, identity.issuer) == (alice.id, "alice", sso.issuer)
    (bind,) = [e for e in db.session.scalars(select(AuditEntry)) if e.action == "sso-bind"]
    assert bind.entity_id == str(alice.id) and bind.new_values["subject"] == "alice"
    # Signing in again binds nothing more.
    assert sign_in_sso(app.test_client(), "alice").status_code == 302
    assert _count(SsoIdentity) == 1 and _actions().count("sso-bind") == 1


def test_an_email_change_at_the_provider_keeps_the_same_account(app, sso):
    person = sso.add("alice", "alice@corp.example", ["security-team"])
    client = app.test_client()
    assert sign_in_sso(client, "alice").status_code == 302
    alice = _user("alice@corp.example")
    client.get("/").get_data()

    person.email = "alice.smith@newcorp.example"
    again = app.test_client()
    assert sign_in_sso(again, "alice").status_code == 302
    assert _count(User) == 1 and _count(SsoIdentity) == 1
    db.session.refresh(alice)
    # Same account, now under the address the provider vouches for (an audited change).
    assert alice.email == "alice.smith@newcorp.example"
    change = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.entity_type == "User")
    ).all()
    assert any(
        (e.old_values or {}).get("email") == "alice@corp.example"
        and (e.new_values or {}).get("email") == "alice.smith@newcorp.example"
        for e in change
    )
    assert again.get("/").status_code == 200


def test_an_email_taken_by_another_account_is_not_taken_over_by_a_bound_account(app, users, sso):
    person = sso.add("alice", "alice@corp.example", ["managers"])
    assert sign_in_sso(app.test_client(), "alice").status_code == 302
    alice = _user("alice@corp.example")
    person.email = ROLE_EMAILS[Role.VIEWER]
    client = app.test_client()
    assert sign_in_sso(client, "alice").status_code == 302
    db.session.refresh(alice)
    db.session.refresh(users[Role.VIEWER])
    # Still Alice's own account; the viewer's account is untouched.
    assert alice.email == "alice@corp.example"
    assert users[Role.VIEWER].role == Role.VIEWER
    (row,) = db.session.scalars(
        select(SignInSession)
        .where(SignInSession.ended_at.is_(None))
        .order_by(SignInSession.id.desc())
        .limit(1)
    ).all()
    assert row.user_id == alice.id


def test_another_subject_with_the_same_email_is_refused_and_nothing_written(app, sso):
    sso.add("alice", "alice@corp.example", ["security-team"])
    assert sign_in_sso(app.test_client(), "alice").status_code == 302
    alice = _user("alice@corp.example")
    before = (_count(User), _count(SsoIdentity), _count(SignInSession), _actions())

    # A new account at the provider that reuses Alice's address, with more powerful groups.
    sso.add("mallory", "Alice@corp.example", ["it-admins"], name="Mallory")
    client = app.test_client()
    response = sign_in_sso(client, "mallory")
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and 'data-testid="sso-refused"' in page
    assert "belongs to another Loopback ID account" in page
    assert "Nobody was signed in" in page
    assert client.get("/").status_code == 302
    assert (_count(User), _count(SsoIdentity), _count(SignInSession)) == before[:3]
    assert _actions() == [*before[3], "sso-refused"]
    refusal = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert refusal.new_values["reason"] == "account bound to another subject"
    db.session.refresh(alice)
    assert (alice.role, alice.name) == (Role.SECURITY, "Alice")


def test_an_existing_unbound_account_is_bound_by_its_verified_email(app, users, sso):
    sso.add("viewer-at-idp", ROLE_EMAILS[Role.VIEWER], ["managers"])
    assert sign_in_sso(app.test_client(), "viewer-at-idp").status_code == 302
    (identity,) = db.session.scalars(select(SsoIdentity)).all()
    assert identity.user_id == users[Role.VIEWER].id and identity.subject == "viewer-at-idp"
    # From now on only that subject opens it.
    sso.add("someone-else", ROLE_EMAILS[Role.VIEWER], ["managers"])
    assert sign_in_sso(app.test_client(), "someone-else").status_code == 403
    assert _count(SsoIdentity) == 1


def test_an_administrator_unbinds_an_account_for_a_replaced_provider_account(
    app, client_as, users, sso
):
    sso.add("old-viewer", ROLE_EMAILS[Role.VIEWER], ["managers"])
    assert sign_in_sso(app.test_client(), "old-viewer").status_code == 302
    sso.add("new-viewer", ROLE_EMAILS[Role.VIEWER], ["managers"])
    assert sign_in_sso(app.test_client(), "new-viewer").status_code == 403

    viewer = users[Role.VIEWER]
    assert client_as(Role.MANAGER).post(f"/admin/users/{viewer.id}/unbind-sso").status_code == 403
    admin = client_as(Role.ADMIN)
    assert "Unbind single sign-on" in admin.get("/admin/users").get_data(as_text=True)
    assert admin.post(f"/admin/users/{viewer.id}/unbind-sso").status_code == 302
    assert _count(SsoIdentity) == 0
    (event,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sso-unbind"))
    assert (
        event.user_id == users[Role.ADMIN].id and event.old_values["subjects"][0][1] == "old-viewer"
    )
    # The new provider account is bound at its next sign-in; the old one no longer opens it.
    assert sign_in_sso(app.test_client(), "new-viewer").status_code == 302
    assert sign_in_sso(app.test_client(), "old-viewer").status_code == 403
    (identity,) = db.session.scalars(select(SsoIdentity)).all()
    assert (identity.user_id, identity.subject) == (viewer.id, "new-viewer")


def test_the_unique_binding_not_the_lookup_has_the_last_word(app, sso, monkeypatch):
    carol = sso.add("carol", "carol@corp.example", ["managers"])
    assert sign_in_sso(app.test_client(), "carol").status_code == 302
    carol.email = "carol.new@corp.example"
    before = (_count(User), _count(SsoIdentity), _count(SignInSession), _actions())
    # A lookup that missed a binding committed by a request running at the same moment.
    monkeypatch.setattr("app.auth.sso._bound_identity", lambda issuer, subject: None)
    response = sign_in_sso(app.test_client(), "carol")
    assert response.status_code == 403
    assert "at the same moment" in response.get_data(as_text=True)
    assert (_count(User), _count(SsoIdentity), _count(SignInSession)) == before[:3]
    assert _actions() == [*before[3], "sso-refused"]
