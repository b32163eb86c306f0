"""One row per sign-in: what the session cookie points to, so signing out can end it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import AccountRow, sha256_hex, utcnow

__all__ = ["SignInSession"]


def hash_session_key(key: str) -> str:
    return sha256_hex(key)


class SignInSession(AccountRow, Model):
    __tablename__ = "sign_in_sessions"

    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Touched at most once a minute (app/auth/session.py); the idle timeout reads it.
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    remember: Mapped[bool] = mapped_column(default=False)
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(32))

    user = relationship("User")

    def __str__(self) -> str:
        return f"sign-in session {self.id} of user {self.user_id}"
