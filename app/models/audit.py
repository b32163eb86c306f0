"""The audit log: every change to an audited model, written in the same transaction.

Models opt in with ``__audited__ = True``. A ``after_flush`` listener compares each
new, changed or deleted object's attribute history and writes one row per object,
so no view or command can change the register without leaving a trace.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    String,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.extensions import Model, db
from app.models.base import utcnow

__all__ = ["AuditEntry"]


class AuditEntry(Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_entity", "entity_type", "entity_id"),
        # The latest removal of a kind of record, read by the figure cache's fingerprints.
        Index("ix_audit_entries_removals", "entity_type", "action", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(16))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str | None] = mapped_column(String(300))
    old_values: Mapped[dict | None] = mapped_column(JSON)
    new_values: Mapped[dict | None] = mapped_column(JSON)
    # The client address of the request that made the change (behind TRUSTED_PROXIES).
    address: Mapped[str | None] = mapped_column(String(64))

    user = relationship("User", lazy="joined")


def _about(entity_type: str, entity_ids: Iterable[object]) -> tuple[ColumnElement[bool], ...]:
    ids = [str(entity_id) for entity_id in entity_ids]
    # One record (the usual page) compares for equality: the entity index serves both.
    same_id = AuditEntry.entity_id == ids[0] if len(ids) == 1 else AuditEntry.entity_id.in_(ids)
    return AuditEntry.entity_type == entity_type, same_id


def audit_trail(entity_type: str, entity_ids: Iterable[object], limit: int) -> list[AuditEntry]:
    """The newest ``limit`` audit entries about these records of one kind, newest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(*_about(entity_type, entity_ids))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )


def audit_trail_length(entity_type: str, entity_ids: Iterable[object]) -> int:
    """How many audit entries there are about these records (the trail may show fewer)."""
    return db.session.execute(
        select(func.count()).select_from(AuditEntry).where(*_about(entity_type, entity_ids))
    ).scalar_one()


def to_json_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if hasattr(value, "__table__"):
        return _entity_id(value)
    return value


def request_address() -> str | None:
    from flask import has_request_context, request

    if has_request_context():
        return (request.remote_addr or "")[:64] or None
    return None


def current_actor() -> tuple[int | None, str]:
    return _actor()


def _actor() -> tuple[int | None, str]:
    from flask import g, has_request_context

    if has_request_context():
        from flask_login import current_user

        user = getattr(g, "api_user", None) or current_user
        if user is not None and getattr(user, "is_authenticated", False):
            return user.id, user.email
        return None, "anonymous"
    actor = db.session.info.get("audit_actor")
    if actor is not None:
        return actor
    return None, "system"


def set_cli_actor(user_id: int | None, label: str) -> None:
    """Name who is acting for changes made outside a request (CLI, seeding)."""
    db.session.info["audit_actor"] = (user_id, label)


def _entity_id(obj: Any) -> str:
    # New objects have no identity key yet inside the flush, but their primary key is set.
    state = inspect(obj)
    key = state.mapper.primary_key_from_instance(obj)
    return ":".join(str(part) for part in key)


def _collection_ids(values: Any) -> list:
    return sorted(to_json_value(v) for v in values if v is not None)


def _changes(obj: Any, action: str) -> tuple[dict | None, dict | None]:
    state = inspect(obj)
    excluded = set(getattr(obj, "__audit_exclude__", ())) | {"created_at", "updated_at"}
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in excluded:
            continue
        hist = state.attrs[key].history
        if action == "create":
            new[key] = to_json_value(getattr(obj, key))
        elif action == "delete":
            value = (
                hist.unchanged[0] if hist.unchanged else (hist.deleted[0] if hist.deleted else None)
            )
            old[key] = to_json_value(value)
        elif hist.has_changes():
            old[key] = to_json_value(hist.deleted[0] if hist.deleted else None)
            new[key] = to_json_value(hist.added[0] if hist.added else None)
    for key in getattr(obj, "__audit_collections__", ()):
        hist = state.attrs[key].history
        if action == "create":
            new[key] = _collection_ids(getattr(obj, key))
        elif hist.has_changes():
            before = list(hist.unchanged) + list(hist.deleted)
            after = list(hist.unchanged) + list(hist.added)
            old[key] = _collection_ids(before)
            new[key] = _collection_ids(after)
    return (old or None), (new or None)


CORRECTION_REASON = "correction_reason"


def give_correction_reason(reason: str) -> None:
    """The reason an administrator gave for deleting a wrong fact: written beside each
    deletion the session flushes (until it commits or rolls back)."""

    db.session.info[CORRECTION_REASON] = reason.strip()[:200]


def _summary(session: Session, obj: Any, action: str) -> str:
    reason = session.info.get(CORRECTION_REASON) if action == "delete" else None
    text = f"{obj} (correction: {reason})" if reason else str(obj)
    return text[:300]


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_correction_reason(session: Session, *args: Any) -> None:
    session.info.pop(CORRECTION_REASON, None)


@event.listens_for(Session, "after_flush")
def _write_audit_entries(session: Session, flush_context: Any) -> None:
    rows = []
    user_id, actor = None, None
    address = request_address()
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if not getattr(obj, "__audited__", False):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=True):
                continue
            old, new = _changes(obj, action)
            if action == "update" and not old and not new:
                continue
            if actor is None:
                user_id, actor = _actor()
            rows.append(
                {
                    "at": utcnow(),
                    "user_id": user_id,
                    "actor": actor,
                    "action": action,
                    "entity_type": type(obj).__name__,
                    "entity_id": _entity_id(obj),
                    "summary": _summary(session, obj, action),
                    "old_values": old,
                    "new_values": new,
                    "address": address,
                }
            )
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


@functools.cache
def _enum_labels() -> dict[str, str]:
    # Audit values keep enum names (stable across label edits); readers want the labels.
    from app import models

    labels: dict[str, str] = {}
    for value in vars(models).values():
        if isinstance(value, type) and issubclass(value, enum.Enum):
            for member in value:
                label = getattr(member, "label", None)
                if isinstance(label, str):
                    labels.setdefault(member.name, label)
    return labels


def readable_value(value: Any) -> str:
    """An audit value as a person reads it: enum names as their labels, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return _enum_labels().get(value, value)
    if isinstance(value, list):
        return ", ".join(readable_value(v) for v in value) or "none"
    return str(value)
