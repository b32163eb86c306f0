"""Column helpers shared by the models."""

from __future__ import annotations

import enum
import hashlib
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def sha256_hex(text: str) -> str:
    """How a secret is kept (a token, a session key, a recovery code): only its digest, so a
    leaked database does not hand out anything usable."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def enum_column(enum_cls: type[enum.Enum], **kwargs):
    # Stored by name as plain text: no native PostgreSQL enum types to migrate.
    return mapped_column(
        Enum(enum_cls, native_enum=False, length=32, validate_strings=True), **kwargs
    )


def owned_rows(back_populates: str, **kwargs):
    """The rows a record owns (its parts, its history): saved and deleted with it."""
    return relationship(back_populates=back_populates, cascade="all, delete-orphan", **kwargs)


def dated_history(back_populates: str, row: str, on: str = "changed_on"):
    """A record's dated rows (class ``row``, dated by ``on``): owned by it, oldest first."""
    return owned_rows(back_populates, order_by=f"({row}.{on}, {row}.id)")


class AccountRow:
    """A row of a user's account (a token, a recovery code, a sign-in, an identity): deleted
    with the account. Its key and the account's lead the table."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, sort_order=-1
    )


class HistoryRow:
    """A row of a record's dated history (see ``dated_history``): audited, its key first and
    who recorded it after the row's own columns."""

    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Versioned:
    """A record people edit concurrently (the pages and the API at once): each update names
    the version it read, and SQLAlchemy refuses one made from a stale read (StaleDataError,
    answered with 409). Audited, all but its version. Its column follows the record's own."""

    __audited__ = True
    __audit_exclude__: tuple[str, ...] = ("version",)

    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:  # noqa: N805 (a class-level directive)
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
