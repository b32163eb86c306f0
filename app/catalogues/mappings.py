"""Mapping threats and countermeasures to library entries, one by one or from a file.

Plain values in, ``InputError`` out (no Flask request). Every mapping change is a dated
fact and audited (the models are audited)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, insert, or_, select

from app.catalogues.libraries import current_version_id
from app.domain import catalogues as rules
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
from app.validation import InputError, check_date_range

# ---------------------------------------------------------------- mappings


def in_force(model, day: date):
    """WHERE clauses: the mapping was in force on ``day``."""
    return (model.mapped_on <= day, or_(model.unmapped_on.is_(None), model.unmapped_on > day))


_REF_IN_TEXT = re.compile(r"^\s*([^\s—–]+)")


def ref_from_text(text: str | None) -> str:
    """The reference a picker's text starts with ("T1566 — Phishing" → "T1566")."""
    found = _REF_IN_TEXT.match(text or "")
    return found.group(1)[: rules.REF_MAX] if found else ""


def _entry(library: Library, ref: str, field: str, kinds: set[EntryKind]) -> CatalogueEntry:
    if not ref:
        raise InputError({field: "Choose an entry of the library."})
    entry = db.session.scalar(
        select(CatalogueEntry).where(
            CatalogueEntry.version_id == current_version_id(library.id),
            CatalogueEntry.ref == ref,
        )
    )
    if entry is None:
        raise InputError({field: f"{library.name} has no entry {ref}."})
    if entry.kind not in kinds:
        raise InputError({field: f"{ref} is a {entry.kind.label.lower()}; choose a technique."})
    if entry.revoked or entry.deprecated:
        state = "revoked" if entry.revoked else "deprecated"
        raise InputError({field: f"{ref} is {state} in {library.name}; choose its successor."})
    return entry


def _library(library_id: int | None) -> Library:
    library = db.session.get(Library, library_id) if library_id else None
    if library is None:
        raise InputError({"library": "Choose a library."})
    return library


def _check_day(on: date | None) -> date:
    if on is None:
        raise InputError({"on": "Give the day the mapping takes effect."})
    check_date_range("on", on)
    return on


def _add(
    model,
    subject_column: str,
    subject_id: int,
    library: Library,
    ref: str,
    on: date,
    user_id: int | None,
):
    clash = db.session.scalar(
        select(model.id).where(
            getattr(model, subject_column) == subject_id,
            model.library_id == library.id,
            model.ref == ref,
            or_(model.unmapped_on.is_(None), model.unmapped_on > on),
        )
    )
    if clash is not None:
        raise InputError({"entry": f"{ref} is already mapped (on or after {on.isoformat()})."})
    mapping = model(library_id=library.id, ref=ref, mapped_on=on, user_id=user_id)
    setattr(mapping, subject_column, subject_id)
    db.session.add(mapping)
    db.session.flush()
    return mapping


def map_threat(
    threat_id: int, library_id: int | None, ref: str, on: date | None, user_id: int | None
) -> ThreatMapping:
    """Frame a threat by an ATT&CK technique from ``on``."""
    library = _library(library_id)
    if library.kind != LibraryKind.ATTACK:
        raise InputError({"library": "Threats are framed by ATT&CK techniques."})
    day = _check_day(on)
    _entry(library, ref, "entry", {EntryKind.TECHNIQUE, EntryKind.SUB_TECHNIQUE})
    return _add(ThreatMapping, "threat_id", threat_id, library, ref, day, user_id)


def map_countermeasure(
    countermeasure_id: int,
    library_id: int | None,
    ref: str,
    on: date | None,
    user_id: int | None,
) -> CountermeasureMapping:
    """Record that a countermeasure mitigates a technique or implements a control from
    ``on`` (which one follows from the library's kind)."""
    library = _library(library_id)
    day = _check_day(on)
    kinds = (
        {EntryKind.TECHNIQUE, EntryKind.SUB_TECHNIQUE}
        if library.kind == LibraryKind.ATTACK
        else {EntryKind.CONTROL}
    )
    _entry(library, ref, "entry", kinds)
    return _add(
        CountermeasureMapping, "countermeasure_id", countermeasure_id, library, ref, day, user_id
    )


def end_mapping(mapping: ThreatMapping | CountermeasureMapping, on: date | None) -> None:
    """End a mapping from ``on`` (it still counts on every day before)."""
    day = _check_day(on)
    if mapping.unmapped_on is not None:
        raise InputError({"on": f"This mapping already ended on {mapping.unmapped_on}."})
    if day < mapping.mapped_on:
        raise InputError(
            {"on": f"It was mapped on {mapping.mapped_on}; end it on that day or later."}
        )
    mapping.unmapped_on = day
    db.session.flush()


def set_mappings(
    model,
    subject_column: str,
    subject_id: int,
    wanted: set[tuple[int, str]],
    on: date,
    user_id: int | None,
) -> None:
    """Make the mappings in force from ``on`` exactly ``wanted`` ((library id, ref) pairs):
    the API's and the CSV import's write, through the same rules as the pages."""
    current = {
        (m.library_id, m.ref): m
        for m in db.session.scalars(
            select(model).where(
                getattr(model, subject_column) == subject_id, model.unmapped_on.is_(None)
            )
        )
    }
    for key, mapping in current.items():
        if key not in wanted:
            end_mapping(mapping, max(on, mapping.mapped_on))
    for library_id, ref in sorted(wanted - set(current)):
        if model is ThreatMapping:
            map_threat(subject_id, library_id, ref, on, user_id)
        else:
            map_countermeasure(subject_id, library_id, ref, on, user_id)


def resolve_refs(texts: list[str], field: str, attack_only: bool = False) -> set[tuple[int, str]]:
    """(library id, ref) pairs from references as the API and CSV write them: "T1566", or
    "A.5.1", or qualified "ISO/IEC 27001:2022 Annex A: A.5.1" when two libraries share one."""
    if not texts:
        return set()
    query = select(LibraryVersion.library_id, func.max(LibraryVersion.id)).group_by(
        LibraryVersion.library_id
    )
    current = dict(db.session.execute(query).tuples().all())
    libraries = {lib.id: lib for lib in db.session.scalars(select(Library))}
    wanted: set[tuple[int, str]] = set()
    for text in texts:
        text = text.strip()
        if not text:
            continue
        library_name, _, ref = text.rpartition(": ")
        candidates = [
            lib
            for lib in libraries.values()
            if (not library_name or lib.name.lower() == library_name.lower())
            and (not attack_only or lib.kind == LibraryKind.ATTACK)
        ]
        found = []
        if candidates:
            found = list(
                db.session.scalars(
                    select(CatalogueEntry.version_id).where(
                        CatalogueEntry.ref == ref,
                        CatalogueEntry.version_id.in_(
                            [current[lib.id] for lib in candidates if lib.id in current]
                        ),
                    )
                )
            )
        owners = [lib_id for lib_id, v in current.items() if v in found]
        if not owners:
            raise InputError({field: f"No catalogue has an entry {text}."})
        if len(owners) > 1:
            names = ", ".join(sorted(libraries[i].name for i in owners))
            raise InputError(
                {field: f"{ref} is in several catalogues ({names}); write “library: {ref}”."}
            )
        wanted.add((owners[0], ref))
    return wanted


# ---------------------------------------------------------------- mappings from a file


class CatalogueRefs:
    """The current entries of every library, loaded once for a whole file: a cell of
    references ("T1566; T1078", or "Library name: ref") resolved without a query per row."""

    def __init__(self) -> None:
        current = (
            select(LibraryVersion.library_id, func.max(LibraryVersion.id).label("version_id"))
            .group_by(LibraryVersion.library_id)
            .subquery()
        )
        rows = db.session.execute(
            select(
                Library.id,
                Library.name,
                Library.kind,
                CatalogueEntry.ref,
                CatalogueEntry.kind,
                CatalogueEntry.revoked,
                CatalogueEntry.deprecated,
            )
            .join(current, current.c.library_id == Library.id)
            .join(CatalogueEntry, CatalogueEntry.version_id == current.c.version_id)
        )
        self._by_ref: dict[str, list[tuple]] = {}
        for row in rows:
            self._by_ref.setdefault(row[3], []).append(tuple(row))

    def resolve(self, texts: list[str], kind: LibraryKind) -> list[tuple[int, str]]:
        """(library id, ref) pairs for the references of one cell, each an entry a record
        of that column may be mapped to (ValueError: every reference that may not)."""
        wanted: list[tuple[int, str]] = []
        problems: list[str] = []
        for text in texts:
            library_name, _, ref = text.strip().rpartition(": ")
            found = [
                row
                for row in self._by_ref.get(ref, [])
                if not library_name or row[1].casefold() == library_name.strip().casefold()
            ]
            if not found:
                problems.append(f"no catalogue has an entry {text.strip()}")
                continue
            of_kind = [row for row in found if row[2] == kind]
            if not of_kind:
                problems.append(
                    f"{ref} is a control of {found[0][1]}, not an ATT&CK technique"
                    if kind == LibraryKind.ATTACK
                    else f"{ref} is an ATT&CK entry, not a framework control"
                )
                continue
            allowed = (
                {EntryKind.TECHNIQUE, EntryKind.SUB_TECHNIQUE}
                if kind == LibraryKind.ATTACK
                else {EntryKind.CONTROL}
            )
            usable = [row for row in of_kind if row[4] in allowed]
            if not usable:
                what = "technique" if kind == LibraryKind.ATTACK else "control"
                problems.append(f"{ref} is a {of_kind[0][4].label.lower()}; name a {what}")
                continue
            live = [row for row in usable if not (row[5] or row[6])]
            if not live:
                state = "revoked" if usable[0][5] else "deprecated"
                problems.append(f"{ref} is {state} in {usable[0][1]}; name its successor")
                continue
            if len(live) > 1:
                names = ", ".join(sorted(row[1] for row in live))
                problems.append(f"{ref} is in several catalogues ({names}); write “library: {ref}”")
                continue
            pair = (live[0][0], ref)
            if pair not in wanted:
                wanted.append(pair)
        if problems:
            message = "; ".join(problems)
            raise ValueError(message[:1].upper() + message[1:] + ".")
        return wanted


def insert_mappings(
    model, subject_column: str, facts: list[tuple[int, int, str, date]], user_id: int | None
) -> tuple[list[int], list[dict]]:
    """Write new records' mappings in bulk, each a dated fact in force from its day:
    ``facts`` are (record id, library id, ref, day), already resolved by ``CatalogueRefs``.
    Returns the new ids and their values, for the import's audit rows."""
    rows = [
        {
            subject_column: subject_id,
            "library_id": library_id,
            "ref": ref,
            "mapped_on": day,
            "unmapped_on": None,
            "user_id": user_id,
        }  # fmt: skip
        for subject_id, library_id, ref, day in facts
    ]
    ids: list[int] = []
    for start in range(0, len(rows), 5000):
        chunk = rows[start : start + 5000]
        result = db.session.execute(
            insert(model).returning(model.id, sort_by_parameter_order=True), chunk
        )
        ids.extend(result.scalars().all())
    return ids, rows
