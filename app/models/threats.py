"""The threat register: one record is a threat and its risk, with its score history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, DateTime, Float, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.words import Labelled, Worded
from app.extensions import Model, db
from app.models.base import TimestampMixin, Versioned, dated_history, enum_column

__all__ = [
    "Tag",
    "Threat",
    "ThreatCategory",
    "ThreatFeed",
    "ThreatScoreChange",
    "ThreatSearchTerm",
    "ThreatSource",
    "ThreatStateChange",
    "ThreatStatus",
    "Treatment",
]


class ThreatSource(Labelled):
    INTERNAL = "internal", "Internal finding"
    INCIDENT = "incident", "Incident"
    AUDIT = "audit", "Audit"
    THREAT_INTEL = "threat_intel", "Threat-intelligence feed"


class ThreatStatus(Worded):
    IDENTIFIED = "identified"
    ASSESSED = "assessed"
    IN_TREATMENT = "in_treatment"
    MONITORING = "monitoring"
    CLOSED = "closed"


class Treatment(Worded):
    MITIGATE = "mitigate"
    ACCEPT = "accept"
    TRANSFER = "transfer"
    AVOID = "avoid"


class ThreatCategory(TimestampMixin, Model):
    __tablename__ = "threat_categories"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    def __str__(self) -> str:
        return self.name


class ThreatFeed(TimestampMixin, Model):
    """A named source that threats were imported from (a threat-intelligence feed)."""

    __tablename__ = "threat_feeds"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="stix")
    url: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    def __str__(self) -> str:
        return self.name


threat_systems = Table(
    "threat_systems",
    db.metadata,
    Column("threat_id", ForeignKey("threats.id", ondelete="CASCADE"), primary_key=True),
    Column("system_id", ForeignKey("systems.id", ondelete="CASCADE"), primary_key=True, index=True),
)

threat_tags = Table(
    "threat_tags",
    db.metadata,
    Column("threat_id", ForeignKey("threats.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)

    def __str__(self) -> str:
        return self.name


class Threat(Versioned, TimestampMixin, Model):
    __tablename__ = "threats"
    __tombstone__ = "threats"  # a deletion is kept for syncing clients (models/deletions)
    __audit_collections__ = ("systems", "tags")
    __table_args__ = (
        Index("ix_threats_open_residual", "archived_at", "residual_score", "inherent_score"),
        Index(
            "ix_threats_open_current_cells",
            "archived_at",
            "identified_on",
            "status",
            "residual_likelihood",
            "residual_impact",
            "inherent_likelihood",
            "inherent_impact",
        ),
        # Both heat maps of the threats unchanged since a date, counted in this index's order.
        Index(
            "ix_threats_open_cells",
            "archived_at",
            "inherent_likelihood",
            "inherent_impact",
            "residual_likelihood",
            "residual_impact",
            "status",
        ),
        Index("ix_threats_open_review", "archived_at", "next_review_on"),
        # Which threats were on the register on a date, answered from the index alone.
        Index("ix_threats_register", "identified_on", "status", "archived_at", "id"),
        # The register's fingerprint (app.figure_cache) reads the latest edit from here.
        Index("ix_threats_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("threat_categories.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[ThreatSource] = enum_column(ThreatSource, default=ThreatSource.INTERNAL)
    feed_id: Mapped[int | None] = mapped_column(
        ForeignKey("threat_feeds.id", ondelete="SET NULL"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[ThreatStatus] = enum_column(
        ThreatStatus, default=ThreatStatus.IDENTIFIED, index=True
    )
    treatment: Mapped[Treatment | None] = enum_column(Treatment, index=True)
    treatment_rationale: Mapped[str] = mapped_column(Text, default="")
    acceptance_approver_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    acceptance_expires_on: Mapped[date | None] = mapped_column(Date)
    identified_on: Mapped[date] = mapped_column(Date, index=True)
    next_review_on: Mapped[date | None] = mapped_column(Date, index=True)
    # Current scores, kept beside the history so the list can sort and filter in SQL.
    inherent_likelihood: Mapped[int] = mapped_column(default=1)
    inherent_impact: Mapped[int] = mapped_column(default=1)
    residual_likelihood: Mapped[int] = mapped_column(default=1)
    residual_impact: Mapped[int] = mapped_column(default=1)
    inherent_score: Mapped[int] = mapped_column(default=1, index=True)
    residual_score: Mapped[int] = mapped_column(default=1, index=True)
    # How the inherent cell was found (app.domain.scoring_methods): its method and inputs,
    # as in the latest assessment.
    scoring_method: Mapped[str] = mapped_column(
        String(10), default="matrix", server_default="matrix"
    )
    scoring_inputs: Mapped[str] = mapped_column(Text, default="", server_default="")
    method_score: Mapped[float | None] = mapped_column(Float)
    method_rating: Mapped[str] = mapped_column(String(20), default="", server_default="")
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    category: Mapped[ThreatCategory | None] = relationship()
    feed: Mapped[ThreatFeed | None] = relationship()
    owner = relationship("User", foreign_keys=[owner_id])
    acceptance_approver = relationship("User", foreign_keys=[acceptance_approver_id])
    systems = relationship("System", secondary=threat_systems, order_by="System.name")
    tags: Mapped[list[Tag]] = relationship(secondary=threat_tags, order_by="Tag.name")
    score_changes: Mapped[list[ThreatScoreChange]] = dated_history("threat", "ThreatScoreChange")
    state_changes: Mapped[list[ThreatStateChange]] = dated_history("threat", "ThreatStateChange")

    def __str__(self) -> str:
        return self.title


class ThreatSearchTerm(Model):
    """One word of a threat's title or description (folded to lower case, no accents).

    Full-text search that works the same on SQLite and PostgreSQL: each search word is
    a prefix range on the primary key, so a search costs index lookups, not a table scan.
    Kept by ``app.threats.service`` whenever a title or description changes.
    """

    __tablename__ = "threat_search_terms"

    term: Mapped[str] = mapped_column(String(40), primary_key=True)
    threat_id: Mapped[int] = mapped_column(
        ForeignKey("threats.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ThreatFact:
    """A threat's dated row (its scores or its state): in force from ``changed_on`` until
    ``superseded_on`` (None: still in force). These columns lead the table."""

    __audited__ = True
    __audit_exclude__ = ("superseded_on",)

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    threat_id: Mapped[int] = mapped_column(
        ForeignKey("threats.id", ondelete="CASCADE"), sort_order=-1
    )
    changed_on: Mapped[date] = mapped_column(Date, index=True, sort_order=-1)
    # The date the next row replaced this one (None while in force); kept by app.threats.risk.
    superseded_on: Mapped[date | None] = mapped_column(Date, sort_order=-1)


class ThreatScoreChange(ThreatFact, Model):
    """One assessment of a threat's scores; the register as of a date replays these."""

    __tablename__ = "threat_score_changes"
    __table_args__ = (
        Index("ix_threat_score_changes_threat_date", "threat_id", "changed_on"),
        # The register as of a date reads the one change in force per threat
        # (changed_on <= date < superseded_on, NULL: still in force) from this index alone.
        Index(
            "ix_threat_score_changes_in_force",
            "threat_id",
            "changed_on",
            "superseded_on",
            "residual_likelihood",
            "residual_impact",
            "inherent_likelihood",
            "inherent_impact",
            "residual_score",
        ),
        # The ranking as of a date walks the changes in score order and stops at the top N.
        Index(
            "ix_threat_score_changes_rank",
            "residual_score",
            "inherent_score",
            "changed_on",
            "superseded_on",
            "threat_id",
        ),
        # A heat-map cell's threats on a date read only that cell's changes.
        Index(
            "ix_threat_score_changes_residual_cell",
            "residual_likelihood",
            "residual_impact",
            "changed_on",
            "superseded_on",
            "threat_id",
        ),
        Index(
            "ix_threat_score_changes_inherent_cell",
            "inherent_likelihood",
            "inherent_impact",
            "changed_on",
            "superseded_on",
            "threat_id",
        ),
        # Both heat maps as of a date count the changes in force in this index's order:
        # grouped as read, with no sort of the whole register.
        Index(
            "ix_threat_score_changes_cells",
            "inherent_likelihood",
            "inherent_impact",
            "residual_likelihood",
            "residual_impact",
            "changed_on",
            "superseded_on",
            "threat_id",
        ),
    )

    inherent_likelihood: Mapped[int]
    inherent_impact: Mapped[int]
    residual_likelihood: Mapped[int]
    residual_impact: Mapped[int]
    inherent_score: Mapped[int]
    residual_score: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The countermeasure whose deployment brought this change, if any: credits it.
    countermeasure_id: Mapped[int | None] = mapped_column(
        ForeignKey("countermeasures.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    # The method that gave the inherent cell, its inputs (vector, or factors as JSON), its
    # own score and rating, and how the inputs became the cell under the rules then in use.
    scoring_method: Mapped[str] = mapped_column(
        String(10), default="matrix", server_default="matrix"
    )
    scoring_inputs: Mapped[str] = mapped_column(Text, default="", server_default="")
    method_score: Mapped[float | None] = mapped_column(Float)
    method_rating: Mapped[str] = mapped_column(String(20), default="", server_default="")
    method_explanation: Mapped[str] = mapped_column(String(300), default="", server_default="")

    threat: Mapped[Threat] = relationship(back_populates="score_changes")
    author = relationship("User")

    def __str__(self) -> str:
        return f"threat {self.threat_id} scored on {self.changed_on}"


class StateChangeKind(Labelled):
    """What brought a threat's state change: each row is a full snapshot of the state."""

    CREATED = "created", "Identified"
    # status, treatment or acceptance changed on the edit form
    STATUS = "status", "Status or treatment changed"
    ARCHIVED = "archived", "Archived"
    RESTORED = "restored", "Restored"
    REVIEW = "review", "Reviewed"  # a review recorded on its own
    # a re-score (by hand or by a deployment): counts as a review
    RESCORE = "rescore", "Reviewed (re-scored)"
    # the state the register held when dated history began
    MIGRATED = "migrated", "State when dated history began"


class ThreatStateChange(ThreatFact, Model):
    """A threat's status, archival, treatment and next review in force from ``changed_on``.

    Each row is the whole state (a snapshot), valid from ``changed_on`` until
    ``superseded_on`` (None: still in force), as score changes are. Every as-of figure
    reads the row in force on its date; the columns kept on ``Threat`` are the latest row.
    A review is a row of kind review/rescore: who (author), when, outcome (note), and the
    next review date it set.
    """

    __tablename__ = "threat_state_changes"
    __table_args__ = (
        # The state of given threats on a date: one index lookup per threat.
        Index(
            "ix_threat_state_changes_in_force",
            "threat_id",
            "changed_on",
            "superseded_on",
            "archived",
            "status",
            "next_review_on",
        ),
        # The threats on the register on a date, answered from the index alone.
        Index(
            "ix_threat_state_changes_register",
            "archived",
            "changed_on",
            "superseded_on",
            "status",
            "threat_id",
        ),
        # Overdue reviews on a date: the open states whose next review had passed.
        Index(
            "ix_threat_state_changes_review",
            "archived",
            "next_review_on",
            "changed_on",
            "superseded_on",
            "status",
            "threat_id",
        ),
    )

    kind: Mapped[StateChangeKind] = enum_column(StateChangeKind, default=StateChangeKind.STATUS)
    status: Mapped[ThreatStatus] = enum_column(ThreatStatus, default=ThreatStatus.IDENTIFIED)
    archived: Mapped[bool] = mapped_column(default=False)
    treatment: Mapped[Treatment | None] = enum_column(Treatment)
    acceptance_expires_on: Mapped[date | None] = mapped_column(Date)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")

    threat: Mapped[Threat] = relationship(back_populates="state_changes")
    author = relationship("User")

    def __str__(self) -> str:
        return f"threat {self.threat_id} {self.kind.value} on {self.changed_on}"
