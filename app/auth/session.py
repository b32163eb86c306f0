"""Turning a session or remember-me cookie back into a user, or into nobody.

The cookie holds ``user id : session generation : sign-in key``. The key names a row of
``sign_in_sessions``; signing out ends that row, so a copy of the cookie saved before is
refused afterwards, and the idle timeout and the absolute lifetime are checked here.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from flask_login import login_user
from sqlalchemy import select, update

from app.auth import events
from app.auth.service import expiry_reason, start_session
from app.extensions import db
from app.models.base import utcnow
from app.models.sign_in_session import SignInSession, hash_session_key
from app.models.user import User

# Writing last_seen_at on every request would make each page a write; a minute is enough.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def load_user(session_id: str) -> User | None:
    user_id, _, rest = session_id.partition(":")
    version, _, key = rest.partition(":")
    if not user_id.isdigit() or not version.isdigit() or not key or len(key) > 100:
        return None
    found = db.session.execute(
        select(User, SignInSession)
        .join(SignInSession, SignInSession.user_id == User.id)
        .where(SignInSession.key_hash == hash_session_key(key), User.id == int(user_id))
    ).first()
    if found is None:
        return None
    user, row = found
    if (
        not user.is_active_account
        or user.session_version != int(version)
        or row.ended_at is not None
    ):
        return None
    now = utcnow()
    reason = expiry_reason(row, now)
    if reason is not None:
        _end_expired(user, row, reason)
        return None
    user.session_key = key
    if _stale(row.last_seen_at, now) and not _pending_changes():
        db.session.execute(
            update(SignInSession).where(SignInSession.id == row.id).values(last_seen_at=now)
        )
        db.session.commit()
    return user


def _stale(moment, now) -> bool:
    from app.models.api_token import aware

    return aware(moment) < now - LAST_SEEN_RESOLUTION


def _pending_changes() -> bool:
    # The user is first needed in the middle of someone's change: touch it next time.
    session = db.session
    return bool(session.new or session.dirty or session.deleted)


def _end_expired(user: User, row: SignInSession, reason: str) -> None:
    if _pending_changes():
        return
    row.ended_at = utcnow()
    row.end_reason = reason
    events.record_by_account(
        "session-expired",
        user,
        f"Session of {user.email} ended: {reason}",
        details={"reason": reason},
    )
    db.session.commit()


def sign_in_here(user: User, remember: bool, event: str | None = "sign-in") -> None:
    """Start a session for ``user`` in this browser (commits)."""
    start_session(
        user,
        remember=remember,
        address=request.remote_addr,
        user_agent=request.user_agent.string,
        event=event,
    )
    db.session.commit()
    login_user(
        user, remember=remember, duration=timedelta(days=current_app.config["REMEMBER_ME_DAYS"])
    )
