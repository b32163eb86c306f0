"""Candidate threats brought in by threat-intelligence feeds, waiting for a decision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.words import Worded
from app.extensions import Model
from app.models.base import TimestampMixin, enum_column
from app.models.threats import Threat, ThreatFeed

__all__ = [
    "CandidateStatus",
    "ThreatCandidate",
]


class CandidateStatus(Worded):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"

    @property
    def css(self) -> str:
        return {"pending": "warning", "accepted": "success", "dismissed": "secondary"}[self.value]


class ThreatCandidate(TimestampMixin, Model):
    """One STIX object of a feed (indicator, malware, ...) that may become a threat."""

    __tablename__ = "threat_candidates"
    __audited__ = True
    __audit_exclude__ = ("raw",)
    __table_args__ = (UniqueConstraint("feed_id", "stix_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("threat_feeds.id", ondelete="CASCADE"))
    stix_id: Mapped[str] = mapped_column(String(200))
    stix_type: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[list] = mapped_column(JSON, default=list)
    raw: Mapped[dict] = mapped_column(JSON)
    status: Mapped[CandidateStatus] = enum_column(
        CandidateStatus, default=CandidateStatus.PENDING, index=True
    )
    threat_id: Mapped[int | None] = mapped_column(
        ForeignKey("threats.id", ondelete="SET NULL"), index=True
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    feed: Mapped[ThreatFeed] = relationship()
    threat: Mapped[Threat | None] = relationship()
    decided_by = relationship("User")

    def __str__(self) -> str:
        return f"{self.stix_type} {self.name}"
