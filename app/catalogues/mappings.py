"""Mapping threats and countermeasures to library entries, one by one or from a file.

Plain values in, ``InputError`` out (no Flask request). Every mapping change is a dated
fact and audited (the models are audited)."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import insert, or_, select

from app.catalogues.inputs import MappingInput
from app.catalogues.libraries import current_version_id, current_versions
from app.extensions import db
from app.inputs import read_value
from app.models.catalogues import (
    CatalogueEntry,
    CountermeasureMapping,
    EntryKind,
    Library,
    LibraryKind,
    ThreatMapping,
)
from app.models.countermeasures import Countermeasure
from app.models.threats import Threat
from app.validation import InputError

# ---------------------------------------------------------------- mappings


class Subject(NamedTuple):
    """What the mappings of a threat and of a countermeasure differ in."""

    model: type  # the record mapped
    mapping: type  # its mapping rows
    column: str  # the mapping's column naming the record
    attack_only: bool  # threats are framed by ATT&CK techniques only


SUBJECTS = {
    "threat": Subject(Threat, ThreatMapping, "threat_id", True),
    "countermeasure": Subject(Countermeasure, CountermeasureMapping, "countermeasure_id", False),
}


def in_force(model, day: date):
    """WHERE clauses: the mapping was in force on ``day``."""
    return (model.mapped_on <= day, or_(model.unmapped_on.is_(None), model.unmapped_on > day))


def entry_kinds(kind: LibraryKind) -> set[EntryKind]:
    """The entries a record may be mapped to in a library of ``kind``: an ATT&CK
    technique (or sub-technique), or a framework's control."""
    if kind == LibraryKind.ATTACK:
        return {EntryKind.TECHNIQUE, EntryKind.SUB_TECHNIQUE}
    return {EntryKind.CONTROL}


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


# Made once: its fields read a mapping's values, one at a time (the first refused is said).
_MAPPING = MappingInput()


def _library(library_id: int | None) -> Library:
    library = db.session.get(Library, read_value(_MAPPING.fields["library"], library_id, "library"))
    if library is None:
        raise InputError({"library": "Choose a library."})
    return library


def _check_day(on: date | None) -> date:
    return read_value(_MAPPING.fields["on"], on, "on")


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
    _entry(library, ref, "entry", entry_kinds(LibraryKind.ATTACK))
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
    _entry(library, ref, "entry", entry_kinds(library.kind))
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
    current = dict(db.session.execute(current_versions()).tuples().all())
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
        current = current_versions().subquery()
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
            .join(CatalogueEntry, CatalogueEntry.version_id == current.c.vid)
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
            usable = [row for row in of_kind if row[4] in entry_kinds(kind)]
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
