"""Objectives and key results, with a status per fiscal quarter."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.words import Labelled, Worded
from app.extensions import Model
from app.models.base import TimestampMixin, Versioned, enum_column, owned_rows

__all__ = [
    "GoalDirection",
    "KeyResult",
    "KeyResultStatus",
    "Objective",
    "ObjectiveNarrative",
    "Rating",
]


class GoalDirection(Labelled):
    INCREASE = "increase", "Increase to"
    DECREASE = "decrease", "Decrease to"


class Rating(Worded):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    DONE = "done"

    @property
    def css(self) -> str:
        return {
            "on_track": "success",
            "at_risk": "warning",
            "off_track": "danger",
            "done": "primary",
        }[self.value]


class VersionAddedLater(Versioned):
    """Versioned since a migration added the column to tables with rows: the database
    fills it in."""

    version: Mapped[int] = mapped_column(default=1, server_default="1")


class Objective(VersionAddedLater, TimestampMixin, Model):
    __tablename__ = "objectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[str] = mapped_column(String(120), default="")
    # Calendar year in which the fiscal year starts: FY20-21 is 2020.
    fiscal_year: Mapped[int] = mapped_column(index=True)
    target_completion: Mapped[str] = mapped_column(String(40), default="")
    position: Mapped[int] = mapped_column(default=0)

    key_results: Mapped[list[KeyResult]] = owned_rows(
        "objective", order_by="(KeyResult.position, KeyResult.id)"
    )
    narratives: Mapped[list[ObjectiveNarrative]] = owned_rows(
        "objective", order_by="ObjectiveNarrative.quarter_start"
    )

    def __str__(self) -> str:
        return self.title


class ObjectiveNarrative(TimestampMixin, Model):
    """The paragraph under an objective for one quarter."""

    __tablename__ = "objective_narratives"
    __audited__ = True
    __table_args__ = (UniqueConstraint("objective_id", "quarter_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("objectives.id", ondelete="CASCADE"))
    quarter_start: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text, default="")

    objective: Mapped[Objective] = relationship(back_populates="narratives")


class KeyResult(VersionAddedLater, TimestampMixin, Model):
    __tablename__ = "key_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(
        ForeignKey("objectives.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(16))
    statement: Mapped[str] = mapped_column(Text)
    baseline_text: Mapped[str] = mapped_column(Text, default="")
    baseline_value: Mapped[float | None] = mapped_column(Float)
    goal_text: Mapped[str] = mapped_column(Text, default="")
    goal_value: Mapped[float | None] = mapped_column(Float)
    goal_unit: Mapped[str] = mapped_column(String(40), default="")
    goal_direction: Mapped[GoalDirection | None] = enum_column(GoalDirection)
    # First day of the quarter at whose end the baseline stands (None: the fiscal year's
    # start): a per-quarter share of the goal applies only to the quarters after it.
    baseline_quarter_start: Mapped[date | None] = mapped_column(Date)
    # Name of a register metric (app.domain.metrics) that computes this KR's value.
    metric: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)

    objective: Mapped[Objective] = relationship(back_populates="key_results")
    statuses: Mapped[list[KeyResultStatus]] = owned_rows(
        "key_result", order_by="KeyResultStatus.quarter_start"
    )

    def __str__(self) -> str:
        return f"{self.code}: {self.statement[:80]}"


class KeyResultStatus(VersionAddedLater, TimestampMixin, Model):
    __tablename__ = "key_result_statuses"
    __table_args__ = (UniqueConstraint("key_result_id", "quarter_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_result_id: Mapped[int] = mapped_column(ForeignKey("key_results.id", ondelete="CASCADE"))
    quarter_start: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[float | None] = mapped_column(Float)
    rating: Mapped[Rating | None] = enum_column(Rating)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    written_on: Mapped[date | None] = mapped_column(Date)

    key_result: Mapped[KeyResult] = relationship(back_populates="statuses")
    author = relationship("User")

    def __str__(self) -> str:
        return f"KR {self.key_result_id} status for quarter starting {self.quarter_start}"
