"""Sign-in rules: passwords, per-account lockout, sessions and what ends them.

Plain functions over the models; the views pass in the request's facts (address,
browser) and commit. Every outcome is an authentication event in the audit log.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth import events
from app.auth.tokens import revoke_tokens_of
from app.domain.lockout import lock_seconds
from app.domain.sign_in import parse_email_list, password_sign_in_allowed
from app.extensions import db
from app.models.api_token import aware
from app.models.base import utcnow
from app.models.sign_in_session import SignInSession, hash_session_key
from app.models.user import Role, User, normalise_email

_dummy_hash: str | None = None


def _dummy_password_hash() -> str:
    # Hashed once per process with the same method and cost as real passwords, so an
    # unknown email costs the same hash check as a known one (no timing tell).
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_hex(16))
    return _dummy_hash


@dataclass(frozen=True)
class SignInResult:
    user: User | None = None
    locked_until: datetime | None = None

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


def _config(name: str) -> int:
    return int(current_app.config[name])


def check_sign_in(email: str, password: str, now: datetime | None = None) -> SignInResult:
    """Who these details sign in, or why not; counts failures and locks the account.

    Every path checks exactly one password hash, so the answer takes as long for an
    unknown email, a deactivated or locked account as for a wrong password.
    """
    now = now or utcnow()
    email = normalise_email(email)
    # A NUL cannot be in a stored email, and PostgreSQL refuses it in a query.
    user = None if "\x00" in email else db.session.scalar(select(User).where(User.email == email))
    usable = user is not None and user.is_active_account
    locked_until = aware(user.locked_until) if usable and user and user.locked_until else None
    if locked_until is not None and locked_until <= now:
        locked_until = None
    if user is None or not usable or locked_until is not None:
        check_password_hash(_dummy_password_hash(), password)
        if user is not None and locked_until is not None:
            events.record(
                "sign-in-locked",
                user,
                f"Sign-in refused for {user.email}: locked until {locked_until:%H:%M:%S} UTC",
            )
            return SignInResult(locked_until=locked_until)
        what = "deactivated account" if user is not None else "unknown email"
        events.record(
            "sign-in-failed",
            user,
            f"Failed sign-in for {events.attempted_email(email)}: {what}",
            details={"email": events.attempted_email(email), "reason": what},
        )
        return SignInResult()
    if not password_allowed(user):
        check_password_hash(_dummy_password_hash(), password)
        events.record(
            "sign-in-failed",
            user,
            f"Failed sign-in for {user.email}: password sign-in is turned off",
            details={"email": user.email, "reason": "password sign-in turned off"},
        )
        return SignInResult()
    if not user.check_password(password):
        return count_failure(user, now)
    if user.has_two_factor:
        # Only the second step clears the count: a known password must not reset it
        # between rounds of guessed codes.
        return SignInResult(user=user)
    mark_signed_in(user, now)
    return SignInResult(user=user)


def password_allowed(user: User) -> bool:
    config = current_app.config
    return password_sign_in_allowed(
        user.email,
        user.role == Role.ADMIN,
        bool(config["PASSWORD_SIGN_IN"]),
        parse_email_list(config["BREAK_GLASS_ADMINS"]),
    )


def mark_signed_in(user: User, now: datetime) -> None:
    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_login_at = now


def count_failure(user: User, now: datetime, reason: str = "wrong password") -> SignInResult:
    # An UPDATE with the increment in SQL: concurrent failures from several workers all count.
    failures = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_sign_ins=User.failed_sign_ins + 1)
        .returning(User.failed_sign_ins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(user, "failed_sign_ins", failures)
    events.record(
        "sign-in-failed",
        user,
        f"Failed sign-in for {user.email}: {reason} ({failures} in a row)",
        details={"email": user.email, "reason": reason, "failures": failures},
    )
    seconds = lock_seconds(
        failures,
        _config("LOCKOUT_THRESHOLD"),
        _config("LOCKOUT_SECONDS"),
        _config("LOCKOUT_MAX_SECONDS"),
    )
    if not seconds:
        return SignInResult()
    user.locked_until = now + timedelta(seconds=seconds)
    events.record(
        "lockout",
        user,
        f"{user.email} locked for {seconds} s after {failures} failed sign-ins in a row",
        details={"failures": failures, "locked_until": user.locked_until.isoformat()},
    )
    return SignInResult(locked_until=user.locked_until)


def is_locked(user: User, now: datetime | None = None) -> bool:
    return user.locked_until is not None and aware(user.locked_until) > (now or utcnow())


def unlock(user: User) -> bool:
    """An administrator lifts a lockout; False when the account was not locked."""
    if not user.failed_sign_ins and user.locked_until is None:
        return False
    old = {"failed_sign_ins": user.failed_sign_ins}
    user.failed_sign_ins = 0
    user.locked_until = None
    events.record("unlock", user, f"{user.email} unlocked", old=old)
    return True


# --- sessions ---------------------------------------------------------------------------


def start_session(
    user: User,
    *,
    remember: bool,
    address: str | None,
    user_agent: str | None,
    event: str | None = "sign-in",
) -> str:
    """A new sign-in session for ``user``; returns its key (kept only in the cookie)."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    # Rows past the lifetime can no longer be used: keep the table to the live ones (the
    # audit log keeps the history).
    db.session.execute(
        delete(SignInSession)
        .where(
            SignInSession.user_id == user.id,
            SignInSession.created_at < now - timedelta(days=_config("REMEMBER_ME_DAYS")),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.add(
        SignInSession(
            user_id=user.id,
            key_hash=hash_session_key(key),
            created_at=now,
            last_seen_at=now,
            remember=remember,
            address=(address or "")[:64] or None,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    user.session_key = key
    if event:
        kind = "kept signed in" if remember else "this browser session"
        events.record_by_account(
            event,
            user,
            f"{user.email} signed in ({kind})",
            details={"remember": remember},
        )
    return key


def session_for(key: str | None) -> SignInSession | None:
    if not key:
        return None
    return db.session.scalar(
        select(SignInSession).where(SignInSession.key_hash == hash_session_key(key))
    )


def end_session(user: User, key: str | None, reason: str = "signed out") -> None:
    """Sign-out: this session's cookie (and remember-me cookie) stop working."""
    row = session_for(key)
    if row is not None and row.user_id == user.id and row.ended_at is None:
        row.ended_at = utcnow()
        row.end_reason = reason
    events.record("sign-out", user, f"{user.email} signed out")


def end_all_sessions(user: User, reason: str) -> int:
    """Every session of ``user`` ends (the generation bump also covers older cookies)."""
    user.session_version = (user.session_version or 0) + 1
    # An UPDATE answers a CursorResult (with its row count); the scoped session's types
    # say only Result.
    result = cast(
        CursorResult[Any],
        db.session.execute(
            update(SignInSession)
            .where(SignInSession.user_id == user.id, SignInSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason[:32])
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount or 0


def sign_out_everywhere(user: User) -> int:
    ended = end_all_sessions(user, "signed out everywhere")
    events.record("sign-out-all", user, f"{user.email} signed out everywhere ({ended} sessions)")
    return ended


def active_sessions(user: User, now: datetime | None = None) -> list[SignInSession]:
    now = now or utcnow()
    rows = db.session.scalars(
        select(SignInSession)
        .where(SignInSession.user_id == user.id, SignInSession.ended_at.is_(None))
        .order_by(SignInSession.last_seen_at.desc())
        .limit(100)
    )
    return [row for row in rows if expiry_reason(row, now) is None]


def expiry_reason(row: SignInSession, now: datetime) -> str | None:
    """Why a session has run out by ``now``, or None while it is still good."""
    lifetime = timedelta(days=_config("REMEMBER_ME_DAYS"))
    if aware(row.created_at) + lifetime <= now:
        return "lifetime reached"
    idle = timedelta(minutes=_config("SESSION_IDLE_MINUTES"))
    if not row.remember and aware(row.last_seen_at) + idle <= now:
        return "idle timeout"
    return None


# --- changes to an account that end its sessions and tokens ---------------------------------


def change_password(user: User, new_password: str, *, reset: bool = False) -> None:
    """New password: every session ends and every API token is revoked."""
    user.set_password(new_password)
    user.failed_sign_ins = 0
    user.locked_until = None
    reason = "password reset" if reset else "password changed"
    end_all_sessions(user, reason)
    revoked = revoke_tokens_of(user, reason)
    if reset:
        events.record(
            "password-reset",
            user,
            f"Password of {user.email} reset; sessions ended, {revoked} API tokens revoked",
        )
    else:
        events.record(
            "password-change",
            user,
            f"{user.email} changed their password; other sessions ended, "
            f"{revoked} API tokens revoked",
        )


def change_role(user: User, role: Role, *, event: str = "role-change", why: str = "") -> None:
    if user.role == role:
        return
    old = user.role
    user.role = role
    revoked = revoke_tokens_of(user, "role changed")
    events.record(
        event,
        user,
        f"Role of {user.email} changed from {old.label} to {role.label}{why}; "
        f"{revoked} API tokens revoked",
        old={"role": old.name},
        details={"role": role.name},
    )


def deactivate(user: User) -> None:
    """The account can no longer sign in; its sessions end and its tokens are revoked for
    good (reactivating the account does not bring them back)."""
    user.is_active_account = False
    end_all_sessions(user, "account deactivated")
    revoke_tokens_of(user, "account deactivated")
