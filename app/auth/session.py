"""Turning a session cookie back into a user, or into nobody."""

from __future__ import annotations

from app.extensions import db
from app.models.user import User


def load_user(session_id: str) -> User | None:
    # The id carries the session version, so bumping it signs out every device.
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active_account or user.session_version != int(version):
        return None
    return user
