"""Two-factor sign-in with time-based one-time codes (TOTP) and one-time recovery codes.

No Flask request in here: the views pass the user, the code typed and the time, and commit.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import CursorResult, delete, func, or_, select, update

from app.auth import events
from app.domain.sign_in import accepted_step
from app.extensions import db
from app.models.base import utcnow
from app.models.recovery_code import RecoveryCode, hash_recovery_code
from app.models.setting import get_setting, set_setting
from app.models.user import Role, User

STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
REQUIRED_ROLES_SETTING = "mfa_required_roles"
# Letters and digits that cannot be misread for one another.
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(text: str) -> str:
    """The QR code as inline SVG, drawn here: the secret never goes to another service."""
    return segno.make(text, error="m").svg_inline(scale=5, dark="#000", light="#fff")


def _time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _clean(code: str) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace() and ch != "-").lower()


def _step_for_code(secret: str, code: str, now: datetime, last_used: int | None) -> int | None:
    code = _clean(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    here = _time_step(now)
    candidates = [here - 1, here, here + 1]  # a little clock drift either way
    matching = [
        step for step in candidates if hmac.compare_digest(totp.at(step * STEP_SECONDS), code)
    ]
    return accepted_step(candidates, matching, last_used)


def enrol(user: User, secret: str, code: str, now: datetime | None = None) -> list[str] | None:
    """Turn two-factor sign-in on once ``code`` proves the app holds ``secret``.

    Returns the new recovery codes (shown once, only their hashes kept), or None when
    the code does not match.
    """
    now = now or utcnow()
    step = _step_for_code(secret, code, now, None)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_last_step = step
    user.mfa_enrolled_at = now
    codes = _replace_recovery_codes(user)
    events.record(
        "mfa-enrol",
        user,
        f"{user.email} turned on two-factor sign-in ({len(codes)} recovery codes issued)",
    )
    return codes


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=hash_recovery_code(code)) for code in codes
    )
    return codes


def _take_code(user: User, code: str, now: datetime) -> bool | None:
    """Whether ``code`` is a current code from the app, accepted at most once: None when it
    matches no time step still open, False when another request took it first. Taken with
    a conditional UPDATE, so two requests racing with the same code cannot both pass."""
    if not user.totp_secret:
        return None
    step = _step_for_code(user.totp_secret, code, now, user.totp_last_step)
    if step is None:
        return None
    taken: CursorResult = db.session.execute(  # type: ignore[assignment]
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return False
    user.totp_last_step = step
    return True


def check_second_step(user: User, code: str, now: datetime | None = None) -> str | None:
    """How ``code`` passes the second step ("code" or "recovery code"), or None.

    Both are accepted with a conditional UPDATE, so two requests racing with the same
    code cannot both pass.
    """
    now = now or utcnow()
    if not user.has_two_factor or not user.totp_secret:
        return None
    taken = _take_code(user, code, now)
    if taken is not None:
        return "code" if taken else None
    cleaned = _clean(code)
    if len(cleaned) != 10:
        return None
    used: CursorResult = db.session.execute(  # type: ignore[assignment]
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_recovery_code(cleaned),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        return None
    left = recovery_codes_left(user)
    events.record_by_account(
        "recovery-code",
        user,
        f"{user.email} signed in with a recovery code ({left} left)",
        details={"left": left},
    )
    return "recovery code"


def recovery_codes_left(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def _clear(user: User, action: str, summary: str, details: dict | None = None) -> None:
    """Two-factor sign-in off: the secret and the recovery codes go; the event keeps when
    it had been turned on."""
    enrolled = user.mfa_enrolled_at
    user.totp_secret = None
    user.totp_last_step = None
    user.mfa_enrolled_at = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    events.record(
        action,
        user,
        f"{summary}; recovery codes deleted",
        old={"enrolled_at": enrolled},
        details=details,
    )


def reset(user: User) -> bool:
    """An administrator turns a user's two-factor sign-in off (lost phone); False when it
    was not on. The user enrols again, at once when their role requires it."""
    if not user.has_two_factor:
        return False
    _clear(user, "mfa-reset", f"Two-factor sign-in of {user.email} reset")
    return True


def replace_recovery_codes(user: User, code: str, now: datetime | None = None) -> list[str] | None:
    """Ten new recovery codes in place of the old ones, once a current code from the app
    proves the phone is at hand; None (and nothing changed) when it does not."""
    if not user.has_two_factor or not _take_code(user, code, now or utcnow()):
        return None
    codes = _replace_recovery_codes(user)
    events.record(
        "recovery-renew",
        user,
        f"{user.email} replaced their recovery codes ({len(codes)} new; the old ones no "
        "longer work)",
        details={"codes": len(codes)},
    )
    return codes


class TwoFactorRequiredError(Exception):
    """The person's role requires two-factor sign-in: it stays on."""


def turn_off(
    user: User, code: str | None, password: str | None, now: datetime | None = None
) -> str | None:
    """The person turns their own two-factor sign-in off, proving it is them with a
    current code or their password. How it was proved ("code" or "password"), or None
    (nothing changed) when neither matches."""
    if not user.has_two_factor:
        return None
    if user.role in required_roles():
        raise TwoFactorRequiredError(user.role.label)
    if code and _take_code(user, code, now or utcnow()):
        how = "code"
    elif password and user.check_password(password):
        how = "password"
    else:
        return None
    _clear(
        user,
        "mfa-off",
        f"{user.email} turned off two-factor sign-in (confirmed with their {how})",
        {"confirmed_with": how},
    )
    return how


def required_roles() -> frozenset[Role]:
    names = get_setting(REQUIRED_ROLES_SETTING, []) or []
    return frozenset(role for role in Role if role.value in names)


def set_required_roles(roles: set[Role]) -> None:
    set_setting(REQUIRED_ROLES_SETTING, sorted(role.value for role in roles))


def must_enrol(user: User) -> bool:
    """True when the user's role requires two-factor sign-in and it is not on yet."""
    return not user.has_two_factor and user.role in required_roles()
