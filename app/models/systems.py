"""Production systems, the staff responsible for them, and SPOF hiring positions."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from app.domain.words import Worded
from app.extensions import Model, db
from app.models.base import (
    HistoryRow,
    TimestampMixin,
    Versioned,
    dated_history,
    enum_column,
    owned_rows,
)

__all__ = [
    "Criticality",
    "Position",
    "PositionStatus",
    "PositionStatusChange",
    "Responsibility",
    "ResponsibilityKind",
    "StaffMember",
    "System",
    "SystemCriticalityChange",
    "SystemProductionChange",
]


class Criticality(Worded):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ResponsibilityKind(Worded):
    PRIMARY = "primary"
    BACKUP = "backup"


class PositionStatus(Worded):
    PLANNED = "planned"
    ACTIVE_HIRING = "active_hiring"
    FINAL_STAGES = "final_stages"
    FILLED = "filled"
    CANCELLED = "cancelled"


class System(Versioned, TimestampMixin, Model):
    __tablename__ = "systems"
    __tombstone__ = "systems"  # a deletion is kept for syncing clients (models/deletions)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    team: Mapped[str] = mapped_column(String(120), default="", index=True)
    criticality: Mapped[Criticality] = enum_column(
        Criticality, default=Criticality.MEDIUM, index=True
    )
    in_production: Mapped[bool] = mapped_column(default=True, index=True)
    retired_on: Mapped[date | None] = mapped_column(Date)

    responsibilities: Mapped[list[Responsibility]] = owned_rows("system")
    production_changes: Mapped[list[SystemProductionChange]] = dated_history(
        "system", "SystemProductionChange"
    )
    criticality_changes: Mapped[list[SystemCriticalityChange]] = dated_history(
        "system", "SystemCriticalityChange"
    )

    # Whether it counts for coverage on a day, when loaded with
    # ``app.coverage.queries.counted_on(day)``.
    counted: Mapped[bool | None] = query_expression()

    def __str__(self) -> str:
        return self.name


class SystemProductionChange(HistoryRow, Model):
    """The day a system went into or out of production. Before its first change a system
    had the opposite flag; with no change, ``System.in_production`` held all along."""

    __tablename__ = "system_production_changes"
    __table_args__ = (
        Index("ix_system_production_changes_system_day", "system_id", "changed_on"),
        # "Any change after this day?": one index probe spares a lookup per system.
        Index("ix_system_production_changes_day", "changed_on"),
    )

    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"))
    changed_on: Mapped[date] = mapped_column(Date)
    in_production: Mapped[bool] = mapped_column()

    system: Mapped[System] = relationship(back_populates="production_changes")

    def __str__(self) -> str:
        state = "in production" if self.in_production else "out of production"
        return f"system {self.system_id} {state} from {self.changed_on}"


class SystemCriticalityChange(HistoryRow, Model):
    """The day a system's criticality changed, and from what. On a day before its first
    change a system had that change's ``previous``; with no change, ``System.criticality``
    held all along (the quarterly report orders uncovered systems by it)."""

    __tablename__ = "system_criticality_changes"
    __table_args__ = (Index("ix_system_criticality_changes_system_day", "system_id", "changed_on"),)

    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"))
    changed_on: Mapped[date] = mapped_column(Date)
    previous: Mapped[Criticality] = enum_column(Criticality)
    criticality: Mapped[Criticality] = enum_column(Criticality)

    system: Mapped[System] = relationship(back_populates="criticality_changes")

    def __str__(self) -> str:
        return f"system {self.system_id} {self.criticality.label} from {self.changed_on}"


class StaffMember(Versioned, TimestampMixin, Model):
    __tablename__ = "staff_members"
    __tombstone__ = "staff"  # a deletion is kept for syncing clients (models/deletions)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    team: Mapped[str] = mapped_column(String(120), default="", index=True)
    # Last working day, inclusive. Leaving is always a date: there is no "inactive" without
    # one (unticking Active records the day it was unticked), so every figure can be
    # re-derived as of any day.
    left_on: Mapped[date | None] = mapped_column(Date, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )

    user = relationship("User")
    responsibilities: Mapped[list[Responsibility]] = owned_rows("staff_member")

    @property
    def active(self) -> bool:
        """Still here today (no leaving date, or one not passed yet)."""
        from app import fiscal

        return self.left_on is None or self.left_on >= fiscal.today()

    def __str__(self) -> str:
        return self.name


class Responsibility(Versioned, TimestampMixin, Model):
    __tablename__ = "responsibilities"
    __tombstone__ = "responsibilities"  # a deletion is kept for syncing clients (models/deletions)
    __table_args__ = (
        CheckConstraint("until IS NULL OR until >= since", name="until_not_before_since"),
        Index("ix_responsibilities_system_dates", "system_id", "since", "until"),
        # Coverage as of a day reads who holds which system from this index alone.
        Index("ix_responsibilities_staff_dates", "staff_member_id", "since", "until", "system_id"),
        # The coverage figures' fingerprint (app.figure_cache) reads the latest edit here.
        Index("ix_responsibilities_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"))
    kind: Mapped[ResponsibilityKind] = enum_column(
        ResponsibilityKind, default=ResponsibilityKind.PRIMARY
    )
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)

    staff_member: Mapped[StaffMember] = relationship(back_populates="responsibilities")
    system: Mapped[System] = relationship(back_populates="responsibilities")

    def __str__(self) -> str:
        return f"staff {self.staff_member_id} on system {self.system_id} from {self.since}"


position_systems = Table(
    "position_systems",
    db.metadata,
    Column("position_id", ForeignKey("positions.id", ondelete="CASCADE"), primary_key=True),
    Column("system_id", ForeignKey("systems.id", ondelete="CASCADE"), primary_key=True),
)


class Position(Versioned, TimestampMixin, Model):
    __tablename__ = "positions"
    __tombstone__ = "positions"  # a deletion is kept for syncing clients (models/deletions)
    __audit_collections__ = ("systems",)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(120), default="", index=True)
    status: Mapped[PositionStatus] = enum_column(
        PositionStatus, default=PositionStatus.PLANNED, index=True
    )
    opened_on: Mapped[date] = mapped_column(Date)
    filled_on: Mapped[date | None] = mapped_column(Date)
    hire_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str] = mapped_column(Text, default="")

    hire: Mapped[StaffMember | None] = relationship()
    systems: Mapped[list[System]] = relationship(secondary=position_systems)
    status_changes: Mapped[list[PositionStatusChange]] = dated_history(
        "position", "PositionStatusChange"
    )

    def __str__(self) -> str:
        return self.title


class PositionStatusChange(HistoryRow, Model):
    __tablename__ = "position_status_changes"

    position_id: Mapped[int] = mapped_column(
        ForeignKey("positions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[PositionStatus] = enum_column(PositionStatus)
    changed_on: Mapped[date] = mapped_column(Date, index=True)
    # After who recorded it, as the table was made.
    note: Mapped[str] = mapped_column(Text, default="", sort_order=1)

    position: Mapped[Position] = relationship(back_populates="status_changes")

    def __str__(self) -> str:
        return f"position {self.position_id} {self.status.value} on {self.changed_on}"
