"""Half signed in: the password (or the provider) is checked, the second step is not.

Kept in the signed session cookie for a few minutes. It is not a sign-in: nothing but
the second-step page reads it, so every other page still sees nobody signed in.
"""

from __future__ import annotations

import time
from typing import Any

from flask import session

from app.extensions import db
from app.models.user import User

PENDING_KEY = "sign_in_pending"
PENDING_SECONDS = 300


def start(
    user: User, *, remember: bool, next_url: str, method: str, id_token: str | None = None
) -> None:
    session[PENDING_KEY] = {
        "user": user.id,
        "version": user.session_version,
        "remember": remember,
        "next": next_url,
        "method": method,
        "id_token": id_token,
        "until": int(time.time()) + PENDING_SECONDS,
    }


def current() -> tuple[User, dict[str, Any]] | None:
    """The account waiting for its second step here, while the wait is still good."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict) or int(data.get("until", 0)) < time.time():
        return None
    user = db.session.get(User, int(data.get("user", 0)))
    if (
        user is None
        or not user.is_active_account
        or user.session_version != data.get("version")
        or not user.has_two_factor
    ):
        return None
    return user, data


def clear() -> None:
    session.pop(PENDING_KEY, None)
