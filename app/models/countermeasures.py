"""Countermeasures against threats, counted in the fiscal quarter they were deployed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Date, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.countermeasures import CountermeasureStatus
from app.domain.words import Labelled, Worded
from app.extensions import Model, db
from app.models.base import HistoryRow, TimestampMixin, Versioned, dated_history, enum_column

__all__ = [
    "Countermeasure",
    "CountermeasureStatus",
    "CountermeasureStatusChange",
    "CountermeasureTargetPeriod",
    "CountermeasureType",
    "Effectiveness",
]


class CountermeasureType(Worded):
    PREVENTIVE = "preventive"
    DETECTIVE = "detective"
    CORRECTIVE = "corrective"


class Effectiveness(Labelled):
    YES = "yes", "Effective"
    PARTLY = "partly", "Partly effective"
    NO = "no", "Not effective"


def _default_plan_day(context) -> date:
    """Today, or the deployment day of one recorded as deployed (rows written directly)."""
    from app import fiscal

    deployed_on = context.get_current_parameters().get("deployed_on")
    today = fiscal.today()
    return min(deployed_on, today) if deployed_on else today


countermeasure_threats = Table(
    "countermeasure_threats",
    db.metadata,
    Column(
        "countermeasure_id", ForeignKey("countermeasures.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("threat_id", ForeignKey("threats.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Countermeasure(Versioned, TimestampMixin, Model):
    __tablename__ = "countermeasures"
    __tombstone__ = "countermeasures"  # a deletion is kept for syncing clients (models/deletions)
    __audit_collections__ = ("threats",)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[CountermeasureType] = enum_column(
        CountermeasureType, default=CountermeasureType.PREVENTIVE, index=True
    )
    status: Mapped[CountermeasureStatus] = enum_column(
        CountermeasureStatus, default=CountermeasureStatus.PLANNED, index=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The day it was planned (recorded): it counts in no figure as of an earlier day.
    planned_on: Mapped[date] = mapped_column(Date, index=True, default=_default_plan_day)
    # First day of the fiscal quarter it is planned for now: a quarter stored as a date.
    # Its history (what "slipped" reads) is in ``target_changes``.
    target_quarter_start: Mapped[date | None] = mapped_column(Date, index=True)
    deployed_on: Mapped[date | None] = mapped_column(Date, index=True)
    retired_on: Mapped[date | None] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(Text, default="")
    verified_on: Mapped[date | None] = mapped_column(Date)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    effectiveness: Mapped[Effectiveness | None] = enum_column(Effectiveness)

    owner = relationship("User", foreign_keys=[owner_id])
    verified_by = relationship("User", foreign_keys=[verified_by_id])
    threats = relationship("Threat", secondary=countermeasure_threats, order_by="Threat.title")
    status_changes: Mapped[list[CountermeasureStatusChange]] = dated_history(
        "countermeasure", "CountermeasureStatusChange"
    )
    target_periods: Mapped[list[CountermeasureTargetPeriod]] = dated_history(
        "countermeasure", "CountermeasureTargetPeriod", on="valid_from"
    )

    def __str__(self) -> str:
        return self.title


class CountermeasureStatusChange(HistoryRow, Model):
    __tablename__ = "countermeasure_status_changes"

    countermeasure_id: Mapped[int] = mapped_column(
        ForeignKey("countermeasures.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[CountermeasureStatus] = enum_column(CountermeasureStatus)
    changed_on: Mapped[date] = mapped_column(Date)

    countermeasure: Mapped[Countermeasure] = relationship(back_populates="status_changes")

    def __str__(self) -> str:
        return f"countermeasure {self.countermeasure_id} {self.status.value} on {self.changed_on}"


class CountermeasureTargetPeriod(HistoryRow, Model):
    """The target quarter in force from ``valid_from`` until the day before ``valid_until``
    (None: still in force). "Slipped in a quarter" reads the target in force on its end."""

    __tablename__ = "countermeasure_target_periods"
    __table_args__ = (
        # The targets in force on a day, answered from the index alone (no table reads).
        Index(
            "ix_countermeasure_target_periods_in_force",
            "target_quarter_start",
            "valid_from",
            "valid_until",
            "countermeasure_id",
        ),
    )

    countermeasure_id: Mapped[int] = mapped_column(
        ForeignKey("countermeasures.id", ondelete="CASCADE"), index=True
    )
    target_quarter_start: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)

    countermeasure: Mapped[Countermeasure] = relationship(back_populates="target_periods")

    def __str__(self) -> str:
        return (
            f"countermeasure {self.countermeasure_id} target {self.target_quarter_start} "
            f"from {self.valid_from}"
        )
