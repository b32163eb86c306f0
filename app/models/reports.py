"""Published quarterly reports: the PDF and headline figures as reported to leadership."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import utcnow

__all__ = ["ReportPublication"]


class ReportPublication(Model):
    """One publication of an objective's quarter report; never edited, only superseded."""

    __tablename__ = "report_publications"
    __audited__ = True
    __audit_exclude__ = ("pdf", "appendix_pdf")
    __table_args__ = (
        Index("ix_report_publications_objective_quarter", "objective_id", "quarter_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("objectives.id", ondelete="CASCADE"))
    # First day of the quarter reported.
    quarter_start: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    generated_on: Mapped[date] = mapped_column(Date)
    # Loaded only when the document itself is asked for.
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # The same document with the full-register appendix, frozen with it (None: published
    # without one). The appendix prints the owner, category and countermeasures as the
    # register held them then, which no dated fact keeps: only these bytes can show it.
    appendix_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # Headline figures as published: {label: value}.
    figures: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    # A newer publication of the same quarter replaces this one; both are kept.
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_publications.id", ondelete="SET NULL"), unique=True
    )
    superseded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_publications.id", ondelete="SET NULL")
    )

    objective = relationship("Objective")
    published_by = relationship("User")

    def __str__(self) -> str:
        return f"report publication {self.id} (objective {self.objective_id}, {self.quarter_start})"
