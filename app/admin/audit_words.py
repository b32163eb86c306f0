"""Audit entries in words: names, labels and dates instead of the ids the log stores.

The log keeps ids (stable, cheap to write); a reader wants "Owner: Sam Security" rather than
"owner_id: 2". ``readable_entries`` resolves every id of a page of entries in one query per
referenced table (never one per row), says a reference that no longer exists as deleted, and
describes each entry's record without its id.
"""

from __future__ import annotations

import functools
import re
import string
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Mapper

from app.extensions import Model, db
from app.models.audit import readable_value, to_json_value


@dataclass(frozen=True)
class Change:
    key: str  # the stored name, e.g. "owner_id"
    field: str  # what a reader sees, e.g. "Owner"
    old: str | None  # None: the field had no earlier value in this entry (a creation)
    new: str | None  # None: the record was deleted
    long_text: bool = False  # a description: say that it changed, not both texts


@dataclass(frozen=True)
class ReadableEntry:
    entry: Any
    kind: str  # "Key result status"
    what: str  # "KR1 status for FY20-21 Q1"
    changes: list[Change]


LONG_TEXT_FIELDS = {"description", "statement", "text", "narrative", "notes", "evidence"}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def kind_label(entity_type: str) -> str:
    """``KeyResultStatus`` -> ``Key result status`` (words that wrap between them)."""
    return _CAMEL.sub(" ", entity_type).capitalize()


def field_label(key: str) -> str:
    name = key[:-3] if key.endswith("_id") else key
    return name.replace("_", " ").capitalize()


@functools.cache
def _mappers() -> tuple[dict[str, Mapper], dict[str, Mapper]]:
    by_class: dict[str, Mapper] = {}
    by_table: dict[str, Mapper] = {}
    for mapper in Model.registry.mappers:
        by_class[mapper.class_.__name__] = mapper
        if isinstance(mapper.local_table, Table):
            by_table[mapper.local_table.name] = mapper
    return by_class, by_table


def _reference_target(mapper: Mapper, key: str) -> Mapper | None:
    """The mapper a stored value of ``key`` points at: a foreign key column or a collection."""
    _, by_table = _mappers()
    if key in mapper.columns:
        for fk in mapper.columns[key].foreign_keys:
            return by_table.get(fk.column.table.name)
        return None
    if key in getattr(mapper.class_, "__audit_collections__", ()):
        return mapper.relationships[key].mapper
    return None


def _name(obj: Any) -> str:
    """A record's own name, without looking at other records."""
    for attribute in ("name", "title", "code", "email", "statement"):
        value = getattr(obj, attribute, None)
        if isinstance(value, str) and value:
            return value if len(value) <= 80 else value[:79] + "…"
    return kind_label(type(obj).__name__).lower()


def _by_id(records: dict[int, Any], value: Any) -> Any:
    """The record of this stored id, or None (no such record, or not an id at all)."""
    record_id = _as_int(value)
    return None if record_id is None else records.get(record_id)


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _load(mapper: Mapper, ids: set[int]) -> dict[int, Any]:
    if not ids or len(mapper.primary_key) != 1:
        return {}
    pk = mapper.primary_key[0]
    rows = db.session.scalars(select(mapper.class_).where(pk.in_(sorted(ids)))).all()
    return {mapper.primary_key_from_instance(row)[0]: row for row in rows}


def readable_entries(entries: list[Any]) -> list[ReadableEntry]:
    by_class, _ = _mappers()
    # 1. the records the entries are about, one query per kind
    wanted: dict[str, set[int]] = defaultdict(set)
    for e in entries:
        entity_id = _as_int(e.entity_id)
        if entity_id is not None and e.entity_type in by_class:
            wanted[e.entity_type].add(entity_id)
    subjects = {kind: _load(by_class[kind], ids) for kind, ids in wanted.items()}

    # 2. every record they or their values point at, one query per table
    refs: dict[str, set[int]] = defaultdict(set)

    def want(target: Mapper | None, value: Any) -> None:
        if target is None:
            return
        for item in value if isinstance(value, list) else [value]:
            ref = _as_int(item)
            if ref is not None:
                refs[target.class_.__name__].add(ref)

    for e in entries:
        mapper = by_class.get(e.entity_type)
        if mapper is None:
            continue
        for values in (e.old_values or {}, e.new_values or {}):
            for key, value in values.items():
                want(_reference_target(mapper, key), value)
        subject = _by_id(subjects.get(e.entity_type, {}), e.entity_id)
        if subject is not None:
            for column in mapper.columns:
                if column.foreign_keys:
                    want(_reference_target(mapper, column.key), getattr(subject, column.key))
    names = {kind: _load(by_class[kind], ids) for kind, ids in refs.items()}

    def ref_name(target: Mapper, value: Any) -> str:
        found = _by_id(names.get(target.class_.__name__, {}), value)
        if found is not None:
            return _name(found)
        return f"a deleted {kind_label(target.class_.__name__).lower()}"

    def say(mapper: Mapper | None, key: str, value: Any) -> str:
        target = _reference_target(mapper, key) if mapper is not None else None
        if target is None or value is None:
            return readable_value(value)
        if isinstance(value, list):
            return ", ".join(ref_name(target, v) for v in value) or "none"
        return ref_name(target, value)

    readable = []
    for e in entries:
        mapper = by_class.get(e.entity_type)
        old, new = e.old_values or {}, e.new_values or {}
        # On creation the id is the record's own key: the "what" column already names it.
        keys = [k for k in dict.fromkeys([*old, *new]) if k != "id"]
        changes = [
            Change(
                key=key,
                field=field_label(key),
                old=say(mapper, key, old[key]) if key in old else None,
                new=say(mapper, key, new[key]) if key in new else None,
                long_text=key in LONG_TEXT_FIELDS,
            )
            for key in keys
        ]
        subject = _by_id(subjects.get(e.entity_type, {}), e.entity_id)
        values = {**old, **new}
        readable.append(
            ReadableEntry(
                entry=e,
                kind=kind_label(e.entity_type),
                what=_describe(e, mapper, subject, values, say),
                changes=changes,
            )
        )
    return readable


# A record that links others is named by its parts: each ``{column}`` in words.
_LINK_RECORD_WORDS = {
    "Responsibility": "{staff_member_id} on {system_id}, from {since}",
    "KeyResultStatus": "{key_result_id} status for {quarter_start}",
    "ObjectiveNarrative": "Narrative of {objective_id} for {quarter_start}",
    "ThreatScoreChange": "Scores of {threat_id} on {changed_on}",
    "CountermeasureStatusChange": "{countermeasure_id}: {status} on {changed_on}",
    "PositionStatusChange": "{position_id}: {status} on {changed_on}",
    "ReportPublication": "Report of {objective_id} for {quarter_start}",
    "ApiToken": "API token {name} of {user_id}",
}
# Columns holding a quarter's first day, said as the quarter's label.
_QUARTERS = {"quarter_start"}


def _describe(e: Any, mapper: Mapper | None, subject: Any, values: dict, say) -> str:
    """What the entry is about, in words: the record's name, or its parts for link records."""

    def part(key: str) -> str:
        value = getattr(subject, key) if subject is not None else values.get(key)
        return say(mapper, key, to_json_value(value))

    def quarter(key: str) -> str:
        value = getattr(subject, key) if subject is not None else values.get(key)
        try:
            first_day = value if isinstance(value, date) else date.fromisoformat(str(value))
            from app import fiscal

            return fiscal.quarter_starting(first_day).label
        except (TypeError, ValueError):
            return f"the quarter from {readable_value(value)}"

    kind = e.entity_type
    if mapper is None:
        return e.summary or kind_label(kind)
    sentence = _LINK_RECORD_WORDS.get(kind)
    if sentence is not None:
        keys = [key for _, key, _, _ in string.Formatter().parse(sentence) if key]
        return sentence.format(
            **{key: quarter(key) if key in _QUARTERS else part(key) for key in keys}
        )
    if kind == "Setting":
        return field_label(str(e.entity_id))
    if subject is not None:
        return _name(subject)
    for key in ("name", "title", "code", "email"):
        if values.get(key):
            return str(values[key])
    summary = e.summary or ""
    # An old summary of a deleted record: keep it unless it names records by id.
    if summary and not re.search(r"\b(?:staff|system|threat|KR|countermeasure)\s+\d", summary):
        return summary
    return f"a deleted {kind_label(kind).lower()}"
