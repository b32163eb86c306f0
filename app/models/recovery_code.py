"""One-time recovery codes for two-factor sign-in: only their hashes are kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.base import AccountRow, sha256_hex

__all__ = ["RecoveryCode"]


def hash_recovery_code(code: str) -> str:
    # Random codes of 50 bits: a plain digest is enough, and the same for every lookup.
    normalised = "".join(ch for ch in code.lower() if ch.isalnum())
    return sha256_hex(normalised)


class RecoveryCode(AccountRow, Model):
    __tablename__ = "recovery_codes"

    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __str__(self) -> str:
        return f"recovery code {self.id} of user {self.user_id}"
