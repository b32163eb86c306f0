"""People who sign in, and the roles that decide what they may change."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.domain.words import Labelled
from app.extensions import Model
from app.models.base import TimestampMixin, enum_column

__all__ = ["Role", "User"]


class Role(Labelled):
    ADMIN = "admin", "Administrator"
    SECURITY = "security", "Security team"
    MANAGER = "manager", "Manager"
    VIEWER = "viewer", "Leadership (read only)"

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(r.value for r in cls)
            raise ValueError(f"Unknown role {text!r}; choose one of {names}.") from None


PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256


class User(UserMixin, TimestampMixin, Model):
    __tablename__ = "users"
    __audited__ = True
    # Sign-in bookkeeping is written as authentication events (app/auth/events.py) instead.
    __audit_exclude__ = (
        "password_hash",
        "session_version",
        "last_login_at",
        "failed_sign_ins",
        "locked_until",
        # Second-factor secrets never go into the log; enrolment and reset are events.
        "totp_secret",
        "totp_last_step",
        "mfa_enrolled_at",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = enum_column(Role, default=Role.VIEWER)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    # Bumped to end every existing session (deactivation, password change).
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Failed sign-ins in a row, from any address; at the threshold the account locks.
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Two-factor sign-in (TOTP): the shared secret, when it was confirmed, and the last
    # 30-second time step a code was accepted for (a code is never accepted twice).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    mfa_enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    # The sign-in session this object was loaded for (see app/auth/session.py); not stored.
    # str once loaded or signed in: a plain attribute, which the mapper must not see annotated.
    if TYPE_CHECKING:
        session_key: str | None = None
    else:
        session_key = None

    def get_id(self) -> str:
        # What Flask-Login keeps in the session and the remember-me cookie: the user, the
        # session generation (bumped to end every session) and this sign-in's own key.
        return f"{self.id}:{self.session_version}:{self.session_key or ''}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def has_two_factor(self) -> bool:
        return self.mfa_enrolled_at is not None and bool(self.totp_secret)

    def has_role(self, *roles: Role) -> bool:
        return self.role == Role.ADMIN or self.role in roles


def normalise_email(email: str) -> str:
    return email.strip().lower()
