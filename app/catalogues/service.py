"""Importing libraries and mapping threats and countermeasures to their entries.

Plain values in, ``InputError`` out (no Flask request): the admin page, the command
line, the API and the seed all go through these functions. A failed import writes
nothing; every mapping change is a dated fact and audited (the models are audited).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import date

import stix2
import stix2.exceptions
import yaml
from sqlalchemy import func, insert, or_, select

from app.domain import catalogues as rules
from app.domain.catalogues import CatalogueFileError, Entry, ParsedLibrary, VersionChanges
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

MAX_FILE_BYTES = 80 * 1024 * 1024  # MITRE's enterprise bundle is about 45 MB
NAME_MAX = 160
STIX_READ = ("x-mitre-tactic", "attack-pattern", "x-mitre-matrix", "x-mitre-collection")
VERSION_MAX = 60

# ---------------------------------------------------------------- reading files


def _file_error(message: str) -> InputError:
    return InputError({"file": message})


def _text_of(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error("The file is not UTF-8 text.") from None


def _read_stix(text: str) -> ParsedLibrary:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise _file_error(
            f"Line {error.lineno}, column {error.colno}: the file is not JSON ({error.msg})."
        ) from None
    if not isinstance(document, dict) or document.get("type") != "bundle":
        raise _file_error("The JSON is not a STIX bundle (its type must be “bundle”).")
    objects = document.get("objects")
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        raise _file_error("The STIX bundle has no list of objects.")
    # The objects the library is read from are validated by stix2 (the others, such as
    # the thousands of "uses" relationships of MITRE's bundle, are not read at all).
    for number, obj in enumerate(objects, start=1):
        if not isinstance(obj.get("type"), str) or not isinstance(obj.get("id"), str):
            raise _file_error(f"Object number {number} of the bundle has no type or id.")
        if obj["type"] not in STIX_READ and obj.get("relationship_type") != "subtechnique-of":
            continue
        try:
            stix2.parse(obj, allow_custom=True, version="2.1")
        except (stix2.exceptions.STIXError, ValueError, TypeError) as error:
            raise _file_error(
                f"Object number {number} ({obj['id'][:80]}) is not valid STIX 2.1: {error}"
            ) from None
    try:
        return rules.entries_from_stix(objects)
    except CatalogueFileError as error:
        raise _file_error(str(error)) from None


def read_library_file(data: bytes, filename: str = "") -> ParsedLibrary:
    """A library from an uploaded file: a STIX bundle (.json), a framework CSV or YAML."""
    if not data:
        raise _file_error("The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise _file_error(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    text = _text_of(data)
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    stripped = text.lstrip()
    try:
        if suffix == "json" or (not suffix and stripped.startswith("{")):
            return _read_stix(text)
        if suffix in ("yaml", "yml"):
            try:
                document = yaml.safe_load(text)
            except yaml.YAMLError as error:
                mark = getattr(error, "problem_mark", None)
                where = f"Line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
                raise _file_error(f"{where}the file is not YAML.") from None
            meta, entries = rules.library_from_yaml(document)
            return ParsedLibrary(
                meta["library"], rules.FRAMEWORK, meta["version"], meta["description"], entries
            )
        if suffix in ("csv", "txt", ""):
            if stripped.startswith("{") or stripped.startswith("["):
                raise _file_error("This looks like JSON: a STIX bundle needs a .json name.")
            return ParsedLibrary("", rules.FRAMEWORK, "", "", rules.entries_from_csv(text))
    except CatalogueFileError as error:
        raise _file_error(str(error)) from None
    raise _file_error("Give a STIX 2.1 bundle (.json), or a control framework as .csv or .yaml.")


# ---------------------------------------------------------------- importing


@dataclass(frozen=True)
class ImportResult:
    library: Library
    version: LibraryVersion
    changes: VersionChanges
    new_library: bool

    def __str__(self) -> str:
        if self.new_library:
            return (
                f"Imported {self.library.name} version {self.version.version}: "
                f"{self.version.entry_count:,} entries."
            )
        return (
            f"Imported {self.library.name} version {self.version.version} "
            f"({self.changes.summary()}); existing mappings are kept."
        )


def current_version_id(library_id: int) -> int | None:
    return db.session.scalar(
        select(func.max(LibraryVersion.id)).where(LibraryVersion.library_id == library_id)
    )


def version_in_force(library_id: int, day: date) -> tuple[int | None, str]:
    """(id, label) of the version whose layout a figure as of ``day`` shows: the last to
    take effect on or before that day; before the first took effect, the first (one query)."""
    versions = select(LibraryVersion.id).where(LibraryVersion.library_id == library_id)
    then = versions.where(LibraryVersion.in_force_from <= day).order_by(
        LibraryVersion.in_force_from.desc(), LibraryVersion.id.desc()
    )
    first = versions.order_by(LibraryVersion.in_force_from, LibraryVersion.id)
    chosen = func.coalesce(then.limit(1).scalar_subquery(), first.limit(1).scalar_subquery())
    row = db.session.execute(
        select(LibraryVersion.id, LibraryVersion.version).where(LibraryVersion.id == chosen)
    ).first()
    return (row[0], row[1]) if row else (None, "")


def version_entries(version_id: int | None) -> list[Entry]:
    """The entries of one version as plain values (one query)."""
    if version_id is None:
        return []
    rows = db.session.execute(
        select(
            CatalogueEntry.ref,
            CatalogueEntry.name,
            CatalogueEntry.kind,
            CatalogueEntry.parent_ref,
            CatalogueEntry.tactics,
            CatalogueEntry.position,
            CatalogueEntry.deprecated,
            CatalogueEntry.revoked,
        ).where(CatalogueEntry.version_id == version_id)
    )
    return [
        Entry(
            ref=ref,
            name=name,
            kind=kind.value,
            parent_ref=parent,
            tactics=tuple(tactics or ()),
            position=position,
            deprecated=deprecated,
            revoked=revoked,
        )
        for ref, name, kind, parent, tactics, position, deprecated, revoked in rows
    ]


def import_library(
    data: bytes,
    filename: str = "",
    *,
    name: str | None = None,
    version: str | None = None,
    on: date,
    user_id: int | None = None,
) -> ImportResult:
    """Import a library file as a new version (of a new library, or of the one with that
    name). Mappings name entries by reference, so they carry over; the result says what
    changed since the previous version. Nothing is written when the file is refused."""
    parsed = read_library_file(data, filename)
    name = (name or "").strip() or parsed.name
    version = (version or "").strip() or parsed.version or on.isoformat()
    errors = {}
    if not name:
        errors["name"] = "Name the library (a CSV file does not name its framework)."
    elif len(name) > NAME_MAX:
        errors["name"] = f"Use at most {NAME_MAX} characters."
    if len(version) > VERSION_MAX:
        errors["version"] = f"Use at most {VERSION_MAX} characters."
    if errors:
        raise InputError(errors)
    kind = LibraryKind(parsed.kind)
    library = db.session.scalar(select(Library).where(func.lower(Library.name) == name.lower()))
    new_library = library is None
    previous: list[Entry] = []
    if library is None:
        library = Library(name=name, kind=kind, description=parsed.description)
        db.session.add(library)
        db.session.flush()
    else:
        if library.kind != kind:
            raise InputError(
                {
                    "file": f"{library.name} is a {library.kind.label.lower()} library; "
                    f"this file is a {kind.label.lower()} one."
                }
            )
        previous_id = current_version_id(library.id)
        previous = version_entries(previous_id)
        if previous_id is not None:
            previous_label = db.session.get(LibraryVersion, previous_id)
            if (
                previous_label is not None
                and previous_label.version == version
                and not rules.compare_versions(previous, parsed.entries).any
            ):
                raise InputError(
                    {
                        "file": f"Version {version} of {library.name} is already imported "
                        "and this file changes nothing."
                    }
                )
    changes = rules.compare_versions(previous, parsed.entries)
    row = LibraryVersion(
        library_id=library.id,
        version=version,
        in_force_from=on,
        source=(filename or "")[-255:],
        imported_by_id=user_id,
        entry_count=len(parsed.entries),
        changes=changes.as_json() if not new_library else {},
    )
    db.session.add(row)
    db.session.flush()
    # MITRE strips a revoked object of its tactics; it keeps the place it had, so the
    # threats still mapped to it stay visible in the matrix, marked.
    before = {e.ref: e for e in previous}
    entries = [
        replace(e, tactics=before[e.ref].tactics)
        if (e.revoked or e.deprecated) and not e.tactics and e.ref in before
        else e
        for e in parsed.entries
    ]
    db.session.execute(
        insert(CatalogueEntry),
        [
            {
                "version_id": row.id,
                "ref": e.ref,
                "name": e.name,
                "description": e.description,
                "kind": EntryKind(e.kind),
                "parent_ref": e.parent_ref,
                "tactics": list(e.tactics),
                "url": e.url,
                "position": e.position,
                "deprecated": e.deprecated,
                "revoked": e.revoked,
            }
            for e in entries
        ],
    )
    return ImportResult(library, row, changes, new_library)


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
