"""Catalogue rules as plain functions: reading library files, comparing versions, and
laying out the coverage figures. No database and no Flask here.

Library files (documented in ``docs/catalogues.md``):

- ATT&CK: MITRE's STIX 2.1 bundle (``enterprise-attack.json``). Tactics are
  ``x-mitre-tactic`` objects, techniques ``attack-pattern`` objects whose
  ``kill_chain_phases`` name their tactics (by the tactic's short name), sub-techniques
  are tied to their technique by ``subtechnique-of`` relationships. Revoked and
  deprecated objects are kept, marked.
- Control frameworks: CSV with a header row ``ref,name`` and optionally
  ``description,parent,url,deprecated`` in any order; or YAML with ``library``,
  ``version``, ``description`` and a ``controls`` list of the same keys.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TACTIC = "tactic"
TECHNIQUE = "technique"
SUB_TECHNIQUE = "sub_technique"
CONTROL = "control"

ATTACK = "attack"
FRAMEWORK = "framework"

REF_MAX = 40
NAME_MAX = 300
URL_MAX = 500
DESCRIPTION_MAX = 20_000
CSV_COLUMNS = ("ref", "name", "description", "parent", "url", "deprecated")
CSV_REQUIRED = ("ref", "name")
_TRUE = {"1", "yes", "true", "y", "x"}
_FALSE = {"", "0", "no", "false", "n"}
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-:/ ]*$")


class CatalogueFileError(ValueError):
    """A library file that cannot be imported, with where the problem is."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        where = ""
        if line is not None:
            where = f"Line {line}" + (f", column {column}" if column is not None else "") + ": "
        super().__init__(where + message)
        self.line, self.column = line, column


@dataclass(frozen=True)
class Entry:
    ref: str
    name: str
    kind: str
    description: str = ""
    parent_ref: str | None = None
    tactics: tuple[str, ...] = ()
    url: str = ""
    position: int = 0
    deprecated: bool = False
    revoked: bool = False


@dataclass(frozen=True)
class ParsedLibrary:
    name: str
    kind: str
    version: str
    description: str
    entries: tuple[Entry, ...]


# ---------------------------------------------------------------- STIX (ATT&CK)


def _attack_ref(obj: Mapping[str, Any]) -> tuple[str | None, str]:
    """(external id, url) from an object's mitre-attack external reference."""
    for ref in obj.get("external_references") or ():
        if ref.get("source_name") in ("mitre-attack", "mitre-mobile-attack", "mitre-ics-attack"):
            return ref.get("external_id"), str(ref.get("url") or "")
    return None, ""


def _text(value: Any, limit: int) -> str:
    return str(value or "").strip()[:limit]


def _stix_record(obj: Mapping[str, Any], ref: str, url: str) -> dict[str, Any]:
    """One ATT&CK tactic or technique as plain values (its tactics by phase name)."""
    revoked = bool(obj.get("revoked"))
    record: dict[str, Any] = {
        "stix_id": obj["id"],
        "ref": _text(ref, REF_MAX),
        "name": _text(obj.get("name") or ref, NAME_MAX),
        "description": _text(obj.get("description"), DESCRIPTION_MAX),
        "url": _text(url, URL_MAX),
        "deprecated": bool(obj.get("x_mitre_deprecated")),
        "revoked": revoked,
        "modified": str(obj.get("modified") or ""),
    }
    if obj.get("type") == "x-mitre-tactic":
        record["kind"] = TACTIC
    else:
        record["kind"] = (
            SUB_TECHNIQUE
            if obj.get("x_mitre_is_subtechnique") or "." in record["ref"]
            else TECHNIQUE
        )
        record["phases"] = [
            str(p.get("phase_name"))
            for p in obj.get("kill_chain_phases") or ()
            if str(p.get("kill_chain_name", "")).startswith("mitre")
        ]
    return record


def _subtechnique_parents(
    objects: Sequence[Mapping[str, Any]], by_stix_id: Mapping[str, str]
) -> dict[str, str]:
    """Each sub-technique's technique, from the bundle's subtechnique-of relationships."""
    parents: dict[str, str] = {}
    for obj in objects:
        if obj.get("type") == "relationship" and obj.get("relationship_type") == "subtechnique-of":
            child = by_stix_id.get(str(obj.get("source_ref")))
            parent = by_stix_id.get(str(obj.get("target_ref")))
            if child and parent and not obj.get("revoked"):
                parents[child] = parent
    return parents


def _tactics_and_parent(
    ref: str,
    record: Mapping[str, Any],
    tactics_by_shortname: Mapping[str, str],
    tactic_position: Mapping[str, int],
    parents: Mapping[str, str],
    found: Mapping[str, Any],
) -> tuple[tuple[str, ...], str | None]:
    """A technique's tactics in the matrix's order and its parent technique (none for a
    tactic, or when the parent is not in the library)."""
    tactics: tuple[str, ...] = ()
    parent = None
    if record["kind"] != TACTIC:
        tactics = tuple(
            sorted(
                {tactics_by_shortname[p] for p in record["phases"] if p in tactics_by_shortname},
                key=lambda t: tactic_position.get(t, 10**6),
            )
        )
        parent = parents.get(ref)
        if record["kind"] == SUB_TECHNIQUE and parent is None and "." in ref:
            parent = ref.split(".", 1)[0]  # ATT&CK ids name their technique
        if parent is not None and parent not in found:
            parent = None
    return tactics, parent


def entries_from_stix(objects: Sequence[Mapping[str, Any]]) -> ParsedLibrary:
    """An ATT&CK library from a bundle's objects (plain mappings, as JSON gives them)."""
    tactics_by_shortname: dict[str, str] = {}
    tactic_order: list[str] = []  # STIX ids, in the matrix's order when one is given
    by_stix_id: dict[str, str] = {}
    found: dict[str, dict[str, Any]] = {}
    collection_name, collection_version = "", ""
    matrix_order: list[str] = []
    for obj in objects:
        kind = obj.get("type")
        if kind == "x-mitre-collection":
            collection_name = _text(obj.get("name"), 160)
            collection_version = _text(obj.get("x_mitre_version"), 60)
        elif kind == "x-mitre-matrix" and not matrix_order:
            matrix_order = list(obj.get("tactic_refs") or ())
        if kind not in ("x-mitre-tactic", "attack-pattern"):
            continue
        ref, url = _attack_ref(obj)
        if not ref:
            continue  # not an ATT&CK object (no ATT&CK id): nothing to map to
        record = _stix_record(obj, ref, url)
        if kind == "x-mitre-tactic":
            shortname = str(obj.get("x_mitre_shortname") or "")
            if shortname:
                tactics_by_shortname[shortname] = record["ref"]
            tactic_order.append(obj["id"])
        by_stix_id[obj["id"]] = record["ref"]
        known = found.get(record["ref"])
        # One entry per ATT&CK id: a live object wins over a revoked one, then the newest.
        if known is None or (not known["revoked"], known["modified"]) < (
            not record["revoked"],
            record["modified"],
        ):
            found[record["ref"]] = record
    if not found:
        raise CatalogueFileError(
            "The bundle holds no ATT&CK tactic or technique (x-mitre-tactic or "
            "attack-pattern objects with a mitre-attack external id)."
        )
    parents = _subtechnique_parents(objects, by_stix_id)
    order = [s for s in matrix_order if s in by_stix_id] + [
        s for s in sorted(tactic_order, key=lambda s: by_stix_id[s]) if s not in matrix_order
    ]
    tactic_position = {by_stix_id[s]: i for i, s in enumerate(order)}
    entries = []
    for ref, record in sorted(found.items(), key=lambda item: ref_key(item[0])):
        tactics, parent = _tactics_and_parent(
            ref, record, tactics_by_shortname, tactic_position, parents, found
        )
        entries.append(
            Entry(
                ref=ref,
                name=record["name"],
                kind=record["kind"],
                description=record["description"],
                parent_ref=parent,
                tactics=tactics,
                url=record["url"],
                position=tactic_position.get(ref, 0),
                deprecated=record["deprecated"],
                revoked=record["revoked"],
            )
        )
    check_parents(entries)
    return ParsedLibrary(
        name=collection_name or "MITRE ATT&CK",
        kind=ATTACK,
        version=collection_version,
        description="MITRE ATT&CK tactics and techniques (STIX 2.1).",
        entries=tuple(entries),
    )


def ref_key(ref: str) -> tuple[tuple[int, int, str], ...]:
    # T1059.003 after T1059, A.5.10 after A.5.9: numbers compare as numbers.
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", ref))


# ---------------------------------------------------------------- frameworks (CSV, YAML)


def _flag(text: str, line: int, column: int) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CatalogueFileError(f"write yes or no, not “{text}”.", line, column)


def _control(row: Mapping[str, Any], position: int, line: int, columns: Mapping[str, int]) -> Entry:
    def cell(name: str) -> str:
        value = row.get(name)
        return "" if value is None else str(value).strip()

    ref, name = cell("ref"), cell("name")
    if not ref:
        raise CatalogueFileError("the ref is empty.", line, columns.get("ref"))
    if len(ref) > REF_MAX or not _REF.match(ref):
        raise CatalogueFileError(
            f"“{ref[:60]}” is not a reference (letters, digits and . - _ : /, at most "
            f"{REF_MAX} characters).",
            line,
            columns.get("ref"),
        )
    if not name:
        raise CatalogueFileError(f"control {ref} has no name.", line, columns.get("name"))
    for key, limit in (("name", NAME_MAX), ("url", URL_MAX), ("description", DESCRIPTION_MAX)):
        if len(cell(key)) > limit:
            raise CatalogueFileError(
                f"the {key} is longer than {limit:,} characters.", line, columns.get(key)
            )
    return Entry(
        ref=ref,
        name=name,
        kind=CONTROL,
        description=cell("description"),
        parent_ref=cell("parent") or None,
        url=cell("url"),
        position=position,
        deprecated=_flag(cell("deprecated"), line, columns.get("deprecated", 0)),
    )


def entries_from_csv(text: str) -> tuple[Entry, ...]:
    """Controls from the documented CSV (errors name the line and the column)."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise CatalogueFileError("The file is empty.") from None
    except csv.Error as error:
        raise CatalogueFileError(f"not CSV ({error}).", 1) from None
    names = [h.strip().lower() for h in header]
    for number, name in enumerate(names, start=1):
        if name not in CSV_COLUMNS:
            raise CatalogueFileError(
                f"unknown column “{header[number - 1]}”; the columns are "
                + ", ".join(CSV_COLUMNS)
                + ".",
                1,
                number,
            )
        if names.index(name) != number - 1:
            raise CatalogueFileError(f"column “{name}” appears twice.", 1, number)
    missing = [c for c in CSV_REQUIRED if c not in names]
    if missing:
        raise CatalogueFileError(
            "missing column(s) " + ", ".join(missing) + "; the header must name ref and name.",
            1,
        )
    columns = {name: i + 1 for i, name in enumerate(names)}
    entries: list[Entry] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise CatalogueFileError(
                    f"{len(row)} cell(s) where the header names {len(names)}.",
                    line,
                    min(len(row), len(names)) + 1,
                )
            entries.append(
                _control(dict(zip(names, row, strict=True)), len(entries), line, columns)
            )
    except csv.Error as error:
        raise CatalogueFileError(f"not CSV ({error}).", reader.line_num) from None
    return _checked(entries)


def library_from_yaml(document: Any) -> tuple[dict[str, str], tuple[Entry, ...]]:
    """(library name/version/description, controls) from a loaded YAML document."""
    if not isinstance(document, dict) or not isinstance(document.get("controls"), list):
        raise CatalogueFileError(
            "The YAML must be a mapping with a “controls” list (and library, version)."
        )
    meta = {
        key: _text(document.get(key), 160 if key == "library" else 60)
        for key in ("library", "version")
    }
    meta["description"] = _text(document.get("description"), DESCRIPTION_MAX)
    entries: list[Entry] = []
    columns = {name: i + 1 for i, name in enumerate(CSV_COLUMNS)}
    for number, item in enumerate(document["controls"], start=1):
        if not isinstance(item, dict):
            raise CatalogueFileError(f"control number {number} is not a mapping of keys.")
        unknown = sorted(str(k) for k in item if k not in CSV_COLUMNS)
        if unknown:
            raise CatalogueFileError(
                f"control number {number} has unknown key(s) " + ", ".join(unknown) + "."
            )
        values = dict(item)
        if isinstance(values.get("deprecated"), bool):
            values["deprecated"] = "yes" if values["deprecated"] else "no"
        try:
            entries.append(_control(values, len(entries), number, columns))
        except CatalogueFileError as error:
            message = str(error).split(": ", 1)[-1]
            raise CatalogueFileError(f"control number {number}: {message}") from None
    return meta, _checked(entries)


def _checked(entries: list[Entry]) -> tuple[Entry, ...]:
    if not entries:
        raise CatalogueFileError("The file names no control.")
    seen: set[str] = set()
    for entry in entries:
        if entry.ref in seen:
            raise CatalogueFileError(f"control {entry.ref} appears twice.")
        seen.add(entry.ref)
    check_parents(entries)
    return tuple(entries)


def check_parents(entries: Iterable[Entry]) -> None:
    """Every parent names an entry of the library, and no entry is its own ancestor."""
    parent_of = {e.ref: e.parent_ref for e in entries}
    for child, parent in parent_of.items():
        if parent is not None and parent not in parent_of:
            raise CatalogueFileError(f"{child}: its parent {parent} is not in the file.")
    for start in parent_of:
        path = [start]
        ref: str | None = parent_of[start]
        while ref is not None:
            if ref in path:
                cycle = " → ".join([*path[path.index(ref) :], ref])
                raise CatalogueFileError(f"The parents go round in a cycle: {cycle}.")
            path.append(ref)
            ref = parent_of[ref]


# ---------------------------------------------------------------- versions


@dataclass(frozen=True)
class VersionChanges:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str, str], ...] = ()
    revoked: tuple[str, ...] = ()
    deprecated: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.renamed or self.revoked or self.deprecated)

    def as_json(self) -> dict[str, list[Any]]:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "renamed": [list(r) for r in self.renamed],
            "revoked": list(self.revoked),
            "deprecated": list(self.deprecated),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> VersionChanges:
        data = data or {}
        return cls(
            added=tuple(data.get("added", ())),
            removed=tuple(data.get("removed", ())),
            renamed=tuple(tuple(r) for r in data.get("renamed", ())),
            revoked=tuple(data.get("revoked", ())),
            deprecated=tuple(data.get("deprecated", ())),
        )

    def summary(self) -> str:
        parts = [
            f"{len(values)} {word}"
            for values, word in (
                (self.added, "added"),
                (self.removed, "removed"),
                (self.renamed, "renamed"),
                (self.revoked, "revoked"),
                (self.deprecated, "deprecated"),
            )
            if values
        ]
        return ", ".join(parts) or "no change"


def compare_versions(old: Iterable[Entry], new: Iterable[Entry]) -> VersionChanges:
    """What a new version changes: refs added and removed, names changed, newly revoked
    or deprecated entries (by ref, the key mappings use)."""
    before = {e.ref: e for e in old}
    after = {e.ref: e for e in new}
    return VersionChanges(
        added=tuple(sorted((r for r in after if r not in before), key=ref_key)),
        removed=tuple(sorted((r for r in before if r not in after), key=ref_key)),
        renamed=tuple(
            (r, before[r].name, after[r].name)
            for r in sorted(after, key=ref_key)
            if r in before and before[r].name != after[r].name
        ),
        revoked=tuple(
            r
            for r in sorted(after, key=ref_key)
            if after[r].revoked and (r not in before or not before[r].revoked)
        ),
        deprecated=tuple(
            r
            for r in sorted(after, key=ref_key)
            if after[r].deprecated and (r not in before or not before[r].deprecated)
        ),
    )
