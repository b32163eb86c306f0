"""The countermeasures file: its CSV columns, the rows an export writes, and how an import
checks and writes rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from sqlalchemy import select

from app import fiscal
from app.countermeasures import queries as countermeasure_queries
from app.countermeasures.checks import References
from app.countermeasures.inputs import RECORDED, max_length
from app.countermeasures.service import check_recorded_countermeasure, create_countermeasures
from app.extensions import db
from app.models import (
    Countermeasure,
    CountermeasureStatus,
    CountermeasureType,
    Effectiveness,
    Threat,
)
from app.models.catalogues import CountermeasureMapping, LibraryKind
from app.models.countermeasures import countermeasure_threats
from app.transfer import cells as c
from app.transfer.bulk import (
    Lookups,
    _check_rows,
    _cleans,
    _email_of,
    _threat_ids,
    _user_email,
    _write_mappings,
    date_field,
    enum_field,
    refs_field,
)
from app.transfer.csv_format import CellError, Column, ParsedRow
from app.transfer.sql import linked_names


def _countermeasure_list(args: Mapping):
    # A value the list ignores (it says so on the page) is ignored here too.
    query, _filters, _problems = countermeasure_queries.list_query(args)
    return query


# ---- countermeasures -------------------------------------------------------------------

COUNTERMEASURE_COLUMNS = [
    Column(
        "Title", "title", lambda: Countermeasure.title, c.text(max_length("title")), required=True
    ),
    Column(
        "Description",
        "description",
        lambda: Countermeasure.description,
        c.text(max_length("description"), strip=False),
    ),
    enum_field("Type", Countermeasure, "type", CountermeasureType, CountermeasureType.PREVENTIVE),
    enum_field(
        "Status", Countermeasure, "status", CountermeasureStatus, CountermeasureStatus.PLANNED
    ),
    Column(
        "Owner email",
        "owner_id",
        lambda: _email_of(Countermeasure, Countermeasure.owner_id),
        _user_email,
    ),
    Column(
        "Target quarter",
        "target_quarter_start",
        lambda: Countermeasure.target_quarter_start,
        c.quarter_start,
        kind="quarter",
    ),
    date_field("Planned on", Countermeasure, "planned_on"),
    date_field("Deployed on", Countermeasure, "deployed_on"),
    date_field("Retired on", Countermeasure, "retired_on"),
    Column(
        "Evidence",
        "evidence",
        lambda: Countermeasure.evidence,
        c.text(max_length("evidence"), strip=False),
    ),
    date_field("Verified on", Countermeasure, "verified_on"),
    enum_field("Effectiveness", Countermeasure, "effectiveness", Effectiveness),
    Column(
        "Threats",
        "threat_ids",
        lambda: linked_names(
            Countermeasure,
            countermeasure_threats,
            "countermeasure_id",
            Threat,
            "threat_id",
            Threat.title,
        ),
        _threat_ids,
    ),
    refs_field(
        "Techniques mitigated",
        "techniques",
        CountermeasureMapping,
        CountermeasureMapping.countermeasure_id,
        Countermeasure,
        LibraryKind.ATTACK,
    ),
    refs_field(
        "Controls implemented",
        "controls",
        CountermeasureMapping,
        CountermeasureMapping.countermeasure_id,
        Countermeasure,
        LibraryKind.FRAMEWORK,
    ),
]


class ThreatRef(NamedTuple):
    id: int
    title: str
    archived_at: Any


class CountermeasureReferences(References):
    """The countermeasure rules' look-ups (users, threats), loaded once for the file."""

    def __init__(self, lookups: Lookups) -> None:
        super().__init__()
        self._lookups = lookups
        self._users = set(lookups.users().values())
        self._threat_ids = {i for ids in lookups.threats().values() for i in ids}
        archived = select(Threat.id, Threat.title, Threat.archived_at)
        self._archived = {
            row.id: ThreatRef(*row)
            for row in db.session.execute(archived.where(Threat.archived_at.is_not(None)))
        }

    def user_exists(self, user_id) -> bool:
        return user_id in self._users

    def threats(self, ids):
        return {
            i: self._archived.get(i) or ThreatRef(i, "", None) for i in ids if i in self._threat_ids
        }


# The column each of the rules' values is read from (the target quarter from its first day).
_COLUMN_KEY = {"target_quarter": "target_quarter_start"}
COUNTERMEASURE_FIELD_COLUMNS = {
    name: (column.key, column.header)
    for name in RECORDED
    for column in COUNTERMEASURE_COLUMNS
    if column.key == _COLUMN_KEY.get(name, name)
}


def _countermeasure_values(v: dict) -> dict:
    """A row as the countermeasure rules take it (the quarter as a quarter, not its day)."""
    values = {k: v[k] for k in COUNTERMEASURE_FIELD_COLUMNS if k in v}
    if v.get("target_quarter_start"):
        values["target_quarter"] = fiscal.quarter_starting(v["target_quarter_start"])
    return values


def check_countermeasures(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    """``check_recorded_countermeasure`` for each row: the rules of creating one, and of
    the retirement and verification the row records."""
    return _check_rows(
        rows,
        check_recorded_countermeasure,
        CountermeasureReferences(lookups),
        COUNTERMEASURE_FIELD_COLUMNS,
        values=_countermeasure_values,
    )


def write_countermeasures(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    """Rows already checked by the rules, written by the register's bulk path, with the
    techniques and controls they name."""
    cleans = _cleans(rows)
    ids = create_countermeasures(cleans, user_id)
    # Its techniques and controls are in force from the day it was planned (the rules
    # give every countermeasure one); coverage still counts it only once deployed.
    facts = [
        (cm_id, pair, clean["planned_on"])
        for cm_id, clean, row in zip(ids, cleans, rows, strict=True)
        for key in ("techniques", "controls")
        for pair in row.values.get(key, [])
    ]
    _write_mappings(CountermeasureMapping, "countermeasure_id", facts, user_id)
    return len(ids)
