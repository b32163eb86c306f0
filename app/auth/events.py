"""Authentication events in the audit log: sign-ins, sessions, passwords, tokens, lockouts.

They are rows of the same ``audit_entries`` table as the register's changes, with
``entity_type`` "Authentication", the account concerned as ``entity_id`` and the action
naming the event, so /admin/audit filters them like any other change.
"""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models.audit import AuditEntry, current_actor, request_address, to_json_value
from app.models.base import utcnow
from app.models.user import User

ENTITY = "Authentication"

# action -> what an administrator reads in the filter
EVENTS = {
    "sign-in": "Signed in",
    "sign-in-failed": "Failed sign-in",
    "sign-in-locked": "Sign-in refused: account locked",
    "sign-out": "Signed out",
    "sign-out-all": "Signed out everywhere",
    "session-expired": "Session expired",
    "password-change": "Password changed",
    "password-reset": "Password reset by an administrator",
    "role-change": "Role changed",
    "lockout": "Account locked",
    "unlock": "Account unlocked",
    "token-create": "API token created",
    "token-first-use": "API token used for the first time",
    "token-revoke": "API token revoked",
    "sso-sign-in": "Signed in through single sign-on",
    "sso-refused": "Single sign-on refused",
    "sso-role-change": "Role changed by the identity provider",
    "sso-bind": "Account bound to an identity-provider account",
    "sso-unbind": "Account unbound from its identity-provider account",
    "mfa-enrol": "Two-factor sign-in turned on",
    "recovery-code": "Recovery code used",
    "recovery-renew": "Recovery codes replaced",
    "mfa-off": "Two-factor sign-in turned off",
    "mfa-reset": "Two-factor sign-in reset by an administrator",
}


def _printable(text: str) -> str:
    # Whatever was typed into the sign-in form, as a harmless one-line value.
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:254]


def record(
    action: str,
    account: User | None,
    summary: str,
    *,
    details: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    actor: tuple[int | None, str] | None = None,
) -> None:
    """Add one authentication event to the session (committed with the caller's change)."""
    assert action in EVENTS, action
    user_id, label = actor or current_actor()
    db.session.add(
        AuditEntry(
            at=utcnow(),
            user_id=user_id,
            actor=label,
            action=action,
            entity_type=ENTITY,
            entity_id=str(account.id) if account is not None else "-",
            summary=_printable(summary)[:300],
            old_values=to_json_value(old) if old else None,
            new_values=to_json_value(details) if details else None,
            address=request_address(),
        )
    )


def record_by_account(
    action: str, account: User, summary: str, details: dict[str, Any] | None = None
) -> None:
    """An event the account makes itself while no one is signed in as it (a sign-in, its
    token used, its session expired): the account is its own actor."""
    record(action, account, summary, details=details, actor=(account.id, account.email))


def attempted_email(email: str) -> str:
    return _printable(email)
