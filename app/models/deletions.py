"""Deletions kept as tombstones, so a client syncing with ``updated_since`` learns what is gone.

A deleted record leaves no row to list as changed; instead each deletion of a record the
API lists writes one row here, in the same transaction: which list it left, its id, when
and by whom. Models opt in with ``__tombstone__ = "<list name>"`` (the API path of their
list); the ``after_flush`` listener is the one writer for every such model, whichever path
deletes it (a purge, an ORM cascade).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, event, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.extensions import Model
from app.models.base import utcnow

__all__ = ["Deletion"]

# The lists whose deletions are kept: the API list each record type is read from.
TOMBSTONED = ("threats", "countermeasures", "systems", "staff", "responsibilities", "positions")


class Deletion(Model):
    __tablename__ = "deletions"
    __table_args__ = (Index("ix_deletions_entity_deleted_at", "entity", "deleted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int]
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254))

    def __str__(self) -> str:
        return f"{self.entity} {self.entity_id} deleted"


@event.listens_for(Session, "after_flush")
def _write_tombstones(session: Session, flush_context: Any) -> None:
    from app.models.audit import current_actor

    gone = [
        (entity, obj.id)
        for obj in session.deleted
        if (entity := getattr(obj, "__tombstone__", None)) is not None
    ]
    if not gone:
        return
    user_id, actor = current_actor()
    now = utcnow()
    session.connection().execute(
        insert(Deletion.__table__),
        [
            {
                "entity": entity,
                "entity_id": entity_id,
                "deleted_at": now,
                "deleted_by_id": user_id,
                "actor": actor,
            }
            for entity, entity_id in gone
        ],
    )
