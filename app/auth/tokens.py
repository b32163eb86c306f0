"""Creating, checking and revoking personal API tokens (no Flask request in here)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.auth import events
from app.extensions import db
from app.models.api_token import TOKEN_PREFIX, ApiToken, aware, hash_token
from app.models.base import utcnow
from app.models.user import User
from app.validation import InputError

MAX_EXPIRY_DAYS = 3650
# Writing last_used_at on every call would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenRefusedError(Exception):
    """The presented token does not authenticate anybody; the message says why."""


def create_token(user: User, name: str, expires_days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the record and the secret, which is never stored."""
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = "Give the token a name, e.g. the script that will use it."
    elif len(name) > 120:
        errors["name"] = "Use at most 120 characters."
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        errors["expires_days"] = f"Use a number of days from 1 to {MAX_EXPIRY_DAYS}, or none."
    if errors:
        raise InputError(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(secret),
        hint=secret[:8],
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None,
    )
    db.session.add(token)
    db.session.flush()
    expiry = f"expires {token.expires_at:%Y-%m-%d}" if token.expires_at else "never expires"
    events.record(
        "token-create",
        user,
        f"API token “{name}” ({token.hint}…) created for {user.email}, {expiry}",
        details={"token": token.id, "name": name, "expires_at": token.expires_at},
    )
    return token, secret


def revoke_token(token: ApiToken, reason: str = "revoked") -> bool:
    """Revoke one token; False when it was revoked already."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    user = db.session.get(User, token.user_id)
    events.record(
        "token-revoke",
        user,
        f"API token “{token.name}” ({token.hint}…) of {user.email if user else '?'}: {reason}",
        details={"token": token.id, "name": token.name, "reason": reason},
    )
    return True


def revoke_tokens_of(user: User, reason: str) -> int:
    """Revoke every token of ``user`` not revoked yet (expired ones too: they stay dead)."""
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        revoke_token(token, reason)
    return len(tokens)


def user_for_token(secret: str, now: datetime | None = None) -> tuple[User, ApiToken]:
    """The active user a token belongs to, or TokenRefusedError saying why not."""
    now = now or utcnow()
    if not secret.startswith(TOKEN_PREFIX):
        raise TokenRefusedError("unknown API token")
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None:
        raise TokenRefusedError("unknown API token")
    state = token.state(now)
    if state != "active":
        raise TokenRefusedError(f"this API token is {state}")
    user = db.session.get(User, token.user_id)
    if user is None or not user.is_active_account:
        raise TokenRefusedError("the account of this API token is deactivated")
    if token.last_used_at is None or aware(token.last_used_at) < now - LAST_USED_RESOLUTION:
        # A plain UPDATE, at most once a minute: reads do not turn into writes.
        if token.last_used_at is None:
            events.record_by_account(
                "token-first-use",
                user,
                f"API token “{token.name}” ({token.hint}…) of {user.email} used for the first time",
                details={"token": token.id, "name": token.name},
            )
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        db.session.commit()
    return user, token


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
        )
    )
