"""Reading library files and importing them as dated versions.

Plain values in, ``InputError`` out (no Flask request): the admin page, the command
line, the API and the seed all go through these functions. A failed import writes
nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date

import stix2
import stix2.exceptions
import yaml
from sqlalchemy import func, insert, select

from app.domain import catalogues as rules
from app.domain.catalogues import CatalogueFileError, Entry, ParsedLibrary, VersionChanges
from app.extensions import db
from app.models.catalogues import CatalogueEntry, EntryKind, Library, LibraryKind, LibraryVersion
from app.validation import InputError

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


def current_versions():
    """SELECT (library id, current version id) of every library."""
    return select(
        LibraryVersion.library_id.label("library_id"), func.max(LibraryVersion.id).label("vid")
    ).group_by(LibraryVersion.library_id)


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


def _name_and_version(
    parsed: ParsedLibrary, name: str | None, version: str | None, on: date
) -> tuple[str, str]:
    """The library's name and version: as given, else as the file says (else the import's
    day for the version); refused when missing or too long."""
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
    return name, version


def _insert_entries(row: LibraryVersion, previous: list[Entry], parsed: ParsedLibrary) -> None:
    """The version's entries, in one statement."""
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
    name, version = _name_and_version(parsed, name, version, on)
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
    _insert_entries(row, previous, parsed)
    return ImportResult(library, row, changes, new_library)
