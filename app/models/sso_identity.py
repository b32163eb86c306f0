"""The identity-provider account an account is bound to: the issuer and its subject (``sub``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import AccountRow, utcnow
from app.models.user import User

__all__ = ["SsoIdentity"]


class SsoIdentity(AccountRow, Model):
    """Bound at the first single sign-on. Later sign-ins are matched by issuer and subject,
    never by email again, so an email address reused at the provider opens nothing."""

    __tablename__ = "sso_identities"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        # One provider account per Frontline account and issuer.
        UniqueConstraint("user_id", "issuer"),
    )

    issuer: Mapped[str] = mapped_column(String(512))
    # OpenID Connect caps ``sub`` at 255 ASCII characters.
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship()

    def __str__(self) -> str:
        return f"identity {self.subject} at {self.issuer}"
