"""Catalogues: versioned libraries of ATT&CK techniques or framework controls, and the
dated mappings of threats and countermeasures to their entries.

A mapping names an entry by its library and its stable reference (``T1566``, ``A.5.1``),
never by a version's row, so importing a newer version of a library keeps every mapping.
A mapping is a dated fact: in force from ``mapped_on`` until the day before
``unmapped_on`` (None: still in force).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.words import Labelled
from app.extensions import Model
from app.models.base import HistoryRow, TimestampMixin, enum_column, utcnow

__all__ = [
    "CatalogueEntry",
    "CountermeasureMapping",
    "EntryKind",
    "Library",
    "LibraryKind",
    "LibraryVersion",
    "ThreatMapping",
]


class LibraryKind(Labelled):
    ATTACK = "attack", "ATT&CK techniques"
    FRAMEWORK = "framework", "Control framework"


class EntryKind(enum.Enum):
    TACTIC = "tactic"
    TECHNIQUE = "technique"
    SUB_TECHNIQUE = "sub_technique"
    CONTROL = "control"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize()


class Library(TimestampMixin, Model):
    __tablename__ = "catalogue_libraries"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[LibraryKind] = enum_column(LibraryKind)
    description: Mapped[str] = mapped_column(Text, default="")
    # The entries mapped to are those of its latest version (highest id); a figure as of
    # a day lays out the version in force that day (``LibraryVersion.in_force_from``).

    def __str__(self) -> str:
        return self.name


class LibraryVersion(Model):
    __tablename__ = "catalogue_versions"
    __audited__ = True
    __audit_exclude__ = ("changes",)

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(
        ForeignKey("catalogue_libraries.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(255), default="")
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The day the version takes effect (the import's day): a figure as of an earlier day
    # lays out the version in force then.
    in_force_from: Mapped[date] = mapped_column(Date)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    entry_count: Mapped[int] = mapped_column(default=0)
    # What changed since the previous version: {"added": [...], "removed": [...],
    # "renamed": [[ref, old, new]...], "revoked": [...], "deprecated": [...]}.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    library: Mapped[Library] = relationship()
    imported_by = relationship("User")

    def __str__(self) -> str:
        return f"library {self.library_id} version {self.version}"


class CatalogueEntry(Model):
    """One tactic, technique or control of one library version (not audited: imported data)."""

    __tablename__ = "catalogue_entries"
    __table_args__ = (
        UniqueConstraint("version_id", "ref"),
        Index("ix_catalogue_entries_version_kind", "version_id", "kind", "position"),
        # The matrix finds each mapped ref's technique from the index alone.
        Index("ix_catalogue_entries_cell", "version_id", "ref", "parent_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalogue_versions.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[EntryKind] = enum_column(EntryKind)
    parent_ref: Mapped[str | None] = mapped_column(String(40))
    # A technique's tactics by reference, in the matrix's order (ATT&CK only).
    tactics: Mapped[list] = mapped_column(JSON, default=list)
    url: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(default=0)
    deprecated: Mapped[bool] = mapped_column(default=False)
    revoked: Mapped[bool] = mapped_column(default=False)

    def __str__(self) -> str:
        return f"{self.ref} {self.name}"


class MappedEntry(HistoryRow):
    """What a threat's and a countermeasure's mappings record alike: the entry (its library
    and stable reference) and the days it is in force, then who mapped it. These columns
    follow the record's own."""

    library_id: Mapped[int] = mapped_column(
        ForeignKey("catalogue_libraries.id", ondelete="CASCADE")
    )
    ref: Mapped[str] = mapped_column(String(40))
    mapped_on: Mapped[date] = mapped_column(Date)
    unmapped_on: Mapped[date | None] = mapped_column(Date)


class ThreatMapping(MappedEntry, Model):
    """A threat framed by an ATT&CK technique, from ``mapped_on`` until ``unmapped_on``."""

    __tablename__ = "threat_mappings"
    __table_args__ = (
        Index("ix_threat_mappings_ref", "library_id", "ref", "mapped_on", "threat_id"),
        # A threat's mappings in force on a date, read from the index alone (the matrix).
        Index(
            "ix_threat_mappings_threat",
            "threat_id",
            "library_id",
            "mapped_on",
            "unmapped_on",
            "ref",
        ),
        # Ended mappings are counted by the figure cache's fingerprint.
        Index("ix_threat_mappings_unmapped_on", "unmapped_on"),
    )

    threat_id: Mapped[int] = mapped_column(ForeignKey("threats.id", ondelete="CASCADE"))

    def __str__(self) -> str:
        return f"threat {self.threat_id} → {self.ref} from {self.mapped_on}"


class CountermeasureMapping(MappedEntry, Model):
    """A countermeasure that mitigates a technique or implements a control (by the
    library's kind), from ``mapped_on`` until ``unmapped_on``."""

    __tablename__ = "countermeasure_mappings"
    __table_args__ = (
        Index(
            "ix_countermeasure_mappings_ref", "library_id", "ref", "mapped_on", "countermeasure_id"
        ),
        Index(
            "ix_countermeasure_mappings_countermeasure",
            "countermeasure_id",
            "library_id",
            "mapped_on",
            "unmapped_on",
            "ref",
        ),
        Index("ix_countermeasure_mappings_unmapped_on", "unmapped_on"),
    )

    countermeasure_id: Mapped[int] = mapped_column(
        ForeignKey("countermeasures.id", ondelete="CASCADE")
    )

    def __str__(self) -> str:
        return f"countermeasure {self.countermeasure_id} → {self.ref} from {self.mapped_on}"
