"""The import and export engine every CSV file shares: what an import loads once for the
whole file (``Lookups``), a file's description (``EntityFormat``), cell lookups, checking
rows against an area's rules, bulk inserts and their audit entries.

Rows are checked cell by cell (``app.transfer.csv_format``), then across the file and
against the database (the format's ``check``), and only then written, in bulk, by its
``write``. Each area's columns and writers live beside it (``app/threats/csv.py``...).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app import fiscal
from app.bulk import audit_imported
from app.catalogues.mappings import CatalogueRefs, in_force, insert_mappings
from app.extensions import db
from app.models import (
    StaffMember,
    System,
    Threat,
    ThreatCategory,
    ThreatFeed,
    User,
)
from app.models.catalogues import Library, LibraryKind
from app.threats.risk import risk_matrix
from app.transfer import cells as c
from app.transfer.csv_format import CellError, Column, ParsedRow
from app.transfer.sql import joined
from app.validation import InputError


class Lookups:
    """Names and emails of existing records, loaded once per import (not once per row)."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}
        self.matrix = risk_matrix()

    def _load(self, key, query, many=False):
        if key not in self._cache:
            if many:
                found: dict[str, list[int]] = defaultdict(list)
                for name, object_id in db.session.execute(query):
                    found[name.casefold()].append(object_id)
                self._cache[key] = found
            else:
                self._cache[key] = {
                    name.casefold(): object_id for name, object_id in db.session.execute(query)
                }
        return self._cache[key]

    def systems(self):
        return self._load("systems", select(System.name, System.id))

    def users(self):
        return self._load("users", select(User.email, User.id))

    def staff(self):
        return self._load("staff", select(StaffMember.name, StaffMember.id), many=True)

    def threats(self):
        return self._load("threats", select(Threat.title, Threat.id), many=True)

    def categories(self) -> dict[str, ThreatCategory]:
        if "categories" not in self._cache:
            self._cache["categories"] = {
                c.name.casefold(): c for c in db.session.scalars(select(ThreatCategory))
            }
        return self._cache["categories"]

    def feeds(self):
        return self._load("feeds", select(ThreatFeed.name, ThreatFeed.id))

    def catalogues(self) -> CatalogueRefs:
        if "catalogues" not in self._cache:
            self._cache["catalogues"] = CatalogueRefs()
        return self._cache["catalogues"]


def _user_email(raw: str, lookups: Lookups) -> int | None:
    email = raw.strip()
    if not email:
        return None
    user_id = lookups.users().get(email.casefold())
    if user_id is None:
        raise ValueError(f"No user with email {email}.")
    return user_id


def _system_ids(raw: str, lookups: Lookups) -> list[int]:
    ids, unknown = [], []
    for name in c.names_list(raw):
        system_id = lookups.systems().get(name.casefold())
        (ids.append(system_id) if system_id else unknown.append(name))
    if unknown:
        raise ValueError(f"Unknown system(s): {', '.join(unknown)}. Import systems first.")
    return ids


def _one_of(found: dict[str, list[int]], name: str, what: str) -> int:
    ids = found.get(name.casefold(), [])
    if not ids:
        raise ValueError(f"No {what} named “{name}”.")
    if len(ids) > 1:
        raise ValueError(f"{len(ids)} {what}s are named “{name}”; rename one first.")
    return ids[0]


def _staff_id(raw: str, lookups: Lookups) -> int:
    return _one_of(lookups.staff(), raw.strip(), "staff member")


def _system_id(raw: str, lookups: Lookups) -> int:
    system_id = lookups.systems().get(raw.strip().casefold())
    if system_id is None:
        raise ValueError(f"No system named “{raw.strip()}”. Import systems first.")
    return system_id


def _threat_ids(raw: str, lookups: Lookups) -> list[int]:
    return [_one_of(lookups.threats(), title, "threat") for title in c.names_list(raw)]


def _one(outer, model, value, key):
    """The related row's ``value`` (its id in ``key``), as a correlated scalar subquery; an
    alias, so the outer query may join the same table itself (e.g. to sort by owner)."""
    related = aliased(model)
    return (
        select(getattr(related, value.key))
        .where(related.id == key)
        .correlate(outer)
        .scalar_subquery()
    )


def _email_of(outer, key):
    return _one(outer, User, User.email, key)


def enum_field(header: str, model, key: str, enum_cls, default=None) -> Column:
    """The column of an enum the record stores (written by its label; read by its label,
    value or name; an empty cell is ``default``)."""
    return Column(
        header, key, lambda: getattr(model, key), c.enum_of(enum_cls, default), kind="enum"
    )


def date_field(header: str, model, key: str, required: bool = False) -> Column:
    """The column of a date the record stores (ISO dates)."""
    return Column(header, key, lambda: getattr(model, key), c.day, required, kind="date")


def flag_field(header: str, model, key: str, default: bool) -> Column:
    """The column of a yes/no the record stores (an empty cell is ``default``)."""
    return Column(header, key, lambda: getattr(model, key), c.boolean(default), kind="bool")


def _rule_errors(row: ParsedRow, refused: InputError, columns: dict) -> list[CellError]:
    """The messages of a register rule, each on the column its field comes from (``columns``:
    field -> (row key, header)); a rule about a cell that could not be read is not repeated."""
    errors = []
    for name, message in refused.errors.items():
        key, header = columns.get(name, (None, ""))
        if key is None or key in row.values:
            errors.append(CellError(row.line, header, message))
    return errors


class FilterError(ValueError):
    """A filter value the list page itself refuses (400), e.g. an impossible date."""


@dataclass
class EntityFormat:
    name: str
    label: str
    columns: list[Column]
    # The list page's own query (filters and sort from a query string, no page): the export
    # writes exactly the rows the page lists, in its order.
    list_query: Callable[[Mapping], Any]
    write: Any = None
    check: Any = None
    # The query string of "every record" (the command line's export, the round trip): the
    # list's filters that show everything, sorted so that a re-import keeps the order.
    everything: dict = field(default_factory=dict)

    @property
    def importable(self) -> bool:
        return self.write is not None

    def export_query(self, args: Mapping | None = None):
        """The list's SELECT for this query string (``None``: every record) as plain rows,
        one value per column, related names gathered in SQL; raises FilterError where the
        list answers 400."""
        query = self.list_query(self.everything if args is None else args)
        return query.with_only_columns(
            *[column.value() for column in self.columns], maintain_column_froms=True
        )


def _check_rows(rows, rule, refs, columns, values=lambda v: v, remember=None):
    """Each row through a register rule (``check_new_*``): its clean values are kept on
    the row for the writer; ``remember(row, clean)`` lets later rows see earlier ones."""
    errors = []
    for row in rows:
        clean = None
        try:
            clean = row.values["__clean__"] = rule(values(row.values), refs)
        except InputError as refused:
            errors += _rule_errors(row, refused, columns)
        if remember is not None:
            remember(row, clean)
    return errors


def _cleans(rows: list[ParsedRow]) -> list[dict]:
    """The clean values the check kept on each row, for the writer."""
    return [row.values["__clean__"] for row in rows]


def _refs(raw: str, lookups: Lookups, kind: LibraryKind) -> list[tuple[int, str]]:
    """A cell of catalogue references as the export writes them ("T1078; T1566")."""
    return lookups.catalogues().resolve(c.names_list(raw), kind) if raw.strip() else []


def _mapped_refs(model, subject, outer, kind: LibraryKind):
    """The entries of one kind of catalogue a record is mapped to today. An import maps
    the new record to them from the day it starts (see ``_write_mappings``)."""
    return joined(
        model.ref,
        subject == outer.id,
        *in_force(model, fiscal.today()),
        model.library_id.in_(select(Library.id).where(Library.kind == kind)),
        order_by=[model.ref],
        outer=outer,
    )


def refs_field(header: str, key: str, model, subject, outer, kind: LibraryKind) -> Column:
    """The column of the catalogue entries of one kind a record is mapped to (``model``:
    the mapping table, ``subject`` its column naming the record)."""
    return Column(
        header,
        key,
        lambda: _mapped_refs(model, subject, outer, kind),
        lambda raw, lookups: _refs(raw, lookups, kind),
        may_be_absent=True,
    )


def _write_mappings(model, subject_column: str, facts, user_id) -> None:
    """The rows' catalogue references as dated mappings, with the import's audit rows."""
    ids, values = insert_mappings(
        model,
        subject_column,
        [(subject_id, library_id, ref, day) for subject_id, (library_id, ref), day in facts],
        user_id,
    )
    audit_imported(model, ids, values, "ref")


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]
