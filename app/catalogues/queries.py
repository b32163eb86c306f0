"""Catalogue reads the pages share: a record's mappings, picker options, list filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, or_, select

from app.catalogues.libraries import current_versions
from app.catalogues.mappings import SUBJECTS, in_force
from app.extensions import db
from app.models.catalogues import (
    CatalogueEntry,
    CountermeasureMapping,
    EntryKind,
    Library,
    LibraryKind,
    LibraryVersion,
    ThreatMapping,
)

ENTRIES_PER_PAGE = 100


@dataclass(frozen=True)
class MappingLine:
    id: int
    library: str
    library_id: int
    kind: LibraryKind
    ref: str
    name: str  # "" when the current version no longer holds the ref
    url: str
    mapped_on: date
    unmapped_on: date | None
    revoked: bool
    deprecated: bool
    removed: bool

    @property
    def relation(self) -> str:
        return "mitigates" if self.kind == LibraryKind.ATTACK else "implements"


def _lines(model, subject_column: str, subject_id: int) -> list[MappingLine]:
    """A record's mappings, with the entry as the library's current version has it (one
    query): a revoked, deprecated or removed entry is marked, the mapping kept."""
    versions = current_versions().subquery()
    entry = CatalogueEntry.__table__.alias("entry_now")
    rows = db.session.execute(
        select(
            model.id,
            Library.name,
            Library.id,
            Library.kind,
            model.ref,
            entry.c.name,
            entry.c.url,
            model.mapped_on,
            model.unmapped_on,
            entry.c.revoked,
            entry.c.deprecated,
        )
        .select_from(model)
        .join(Library, Library.id == model.library_id)
        .outerjoin(versions, versions.c.library_id == model.library_id)
        .outerjoin(entry, and_(entry.c.version_id == versions.c.vid, entry.c.ref == model.ref))
        .where(getattr(model, subject_column) == subject_id)
        .order_by(model.unmapped_on.is_not(None), Library.name, model.ref, model.mapped_on)
    )
    return [
        MappingLine(
            id=row[0],
            library=row[1],
            library_id=row[2],
            kind=row[3],
            ref=row[4],
            name=row[5] or "",
            url=row[6] or "",
            mapped_on=row[7],
            unmapped_on=row[8],
            revoked=bool(row[9]),
            deprecated=bool(row[10]),
            removed=row[5] is None,
        )
        for row in rows
    ]


def lines_of(kind: str, record_id: int) -> list[MappingLine]:
    """The mappings of a threat or a countermeasure (``kind``: a key of ``SUBJECTS``)."""
    subject = SUBJECTS[kind]
    return _lines(subject.mapping, subject.column, record_id)


def threat_mappings(threat_id: int) -> list[MappingLine]:
    return _lines(ThreatMapping, "threat_id", threat_id)


def countermeasure_mappings(countermeasure_id: int) -> list[MappingLine]:
    return _lines(CountermeasureMapping, "countermeasure_id", countermeasure_id)


def refs_in_force(model, subject_column: str, ids: list[int], day: date) -> dict[int, list[str]]:
    """The refs mapped to each record on ``day`` (the API and the CSV export; one query)."""
    if not ids:
        return {}
    found: dict[int, list[str]] = {i: [] for i in ids}
    subject = getattr(model, subject_column)
    for start in range(0, len(ids), 1000):
        rows = db.session.execute(
            select(subject, model.ref)
            .where(subject.in_(ids[start : start + 1000]), *in_force(model, day))
            .order_by(subject, model.ref)
        )
        for subject_id, ref in rows:
            found[subject_id].append(ref)
    return found


def mapped_refs_today(kind: str, record_id: int) -> list[str]:
    """The refs a threat ("threat") or a countermeasure ("technique", "control") is mapped
    to today, for the API's record fields (one query)."""
    from app import fiscal

    model: type[ThreatMapping] | type[CountermeasureMapping]
    if kind == "threat":
        model, subject, library_kind = ThreatMapping, ThreatMapping.threat_id, LibraryKind.ATTACK
    else:
        model, subject = CountermeasureMapping, CountermeasureMapping.countermeasure_id
        library_kind = LibraryKind.ATTACK if kind == "technique" else LibraryKind.FRAMEWORK
    return list(
        db.session.scalars(
            select(model.ref)
            .join(Library, Library.id == model.library_id)
            .where(subject == record_id, Library.kind == library_kind)
            .where(*in_force(model, fiscal.today()))
            .order_by(model.ref)
        )
    )


def picker_libraries(for_threats: bool) -> list[Library]:
    query = select(Library).order_by(Library.kind, Library.name)
    if for_threats:
        query = query.where(Library.kind == LibraryKind.ATTACK)
    return list(db.session.scalars(query))


def picker_options(for_threats: bool, library_id: int | None = None) -> list[tuple[int, str, str]]:
    """(library id, ref, name) of every entry a record may be mapped to, of one library
    when given (one query)."""
    versions = current_versions().subquery()
    kinds = [EntryKind.TECHNIQUE, EntryKind.SUB_TECHNIQUE]
    if not for_threats:
        kinds.append(EntryKind.CONTROL)
    narrowed = () if library_id is None else (versions.c.library_id == library_id,)
    rows = db.session.execute(
        select(versions.c.library_id, CatalogueEntry.ref, CatalogueEntry.name)
        .join(versions, versions.c.vid == CatalogueEntry.version_id)
        .where(
            *narrowed,
            CatalogueEntry.kind.in_(kinds),
            CatalogueEntry.revoked.is_(False),
            CatalogueEntry.deprecated.is_(False),
        )
        .order_by(versions.c.library_id, CatalogueEntry.position, CatalogueEntry.ref)
    )
    return [tuple(row) for row in rows]


def threat_ids_mapped_to(ref: str, day: date):
    """SELECT of the ids of threats mapped on ``day`` to an ATT&CK technique (or one of
    its sub-techniques): the register's ?technique= filter."""
    versions = current_versions().subquery()
    children = (
        select(CatalogueEntry.ref)
        .join(versions, versions.c.vid == CatalogueEntry.version_id)
        .where(CatalogueEntry.parent_ref == ref)
    )
    attack = select(Library.id).where(Library.kind == LibraryKind.ATTACK)
    return select(ThreatMapping.threat_id).where(
        ThreatMapping.library_id.in_(attack),
        or_(ThreatMapping.ref == ref, ThreatMapping.ref.in_(children)),
        *in_force(ThreatMapping, day),
    )


def countermeasure_ids_mapped_to(ref: str, day: date, kind: LibraryKind):
    """SELECT of the ids of countermeasures mapped on ``day`` to a technique (with its
    sub-techniques) or a control: the ?technique= and ?control= filters."""
    versions = current_versions().subquery()
    children = (
        select(CatalogueEntry.ref)
        .join(versions, versions.c.vid == CatalogueEntry.version_id)
        .where(CatalogueEntry.parent_ref == ref)
    )
    libraries = select(Library.id).where(Library.kind == kind)
    return select(CountermeasureMapping.countermeasure_id).where(
        CountermeasureMapping.library_id.in_(libraries),
        or_(CountermeasureMapping.ref == ref, CountermeasureMapping.ref.in_(children)),
        *in_force(CountermeasureMapping, day),
    )


@dataclass(frozen=True)
class LibraryLine:
    library: Library
    version: str
    versions: int
    entries: int
    imported_at: object
    threats_mapped: int
    countermeasures_mapped: int


def library_lines(day: date) -> list[LibraryLine]:
    """Every library with its current version and how much maps to it on ``day``
    (three grouped queries)."""
    libraries = list(db.session.scalars(select(Library).order_by(Library.kind, Library.name)))
    versions = {
        row.library_id: row
        for row in db.session.execute(
            select(
                LibraryVersion.library_id,
                func.count(LibraryVersion.id).label("n"),
                func.max(LibraryVersion.id).label("vid"),
            ).group_by(LibraryVersion.library_id)
        )
    }
    current = {
        v.id: v
        for v in db.session.scalars(
            select(LibraryVersion).where(LibraryVersion.id.in_([r.vid for r in versions.values()]))
        )
    }
    counts: dict[tuple[str, int], int] = {}
    for model, label in ((ThreatMapping, "threat"), (CountermeasureMapping, "countermeasure")):
        for library_id, n in db.session.execute(
            select(model.library_id, func.count())
            .where(*in_force(model, day))
            .group_by(model.library_id)
        ):
            counts[(label, library_id)] = n
    lines = []
    for library in libraries:
        row = versions.get(library.id)
        version = current.get(row.vid) if row else None
        lines.append(
            LibraryLine(
                library=library,
                version=version.version if version else "",
                versions=row.n if row else 0,
                entries=version.entry_count if version else 0,
                imported_at=version.imported_at if version else None,
                threats_mapped=counts.get(("threat", library.id), 0),
                countermeasures_mapped=counts.get(("countermeasure", library.id), 0),
            )
        )
    return lines


def entries_query(version_id: int, q: str = ""):
    query = select(CatalogueEntry).where(CatalogueEntry.version_id == version_id)
    q = q.strip()
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(CatalogueEntry.ref).like(like),
                func.lower(CatalogueEntry.name).like(like),
            )
        )
    # Tactics first in the matrix's order, then techniques by reference (a sub-technique
    # after its technique); a framework's controls in the file's order.
    tactic_last = case((CatalogueEntry.kind == EntryKind.TACTIC, 0), else_=1)
    return query.order_by(tactic_last, CatalogueEntry.position, CatalogueEntry.ref)
