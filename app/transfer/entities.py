"""The files an import reads and an export writes, by name: each area's columns and writers
(``app/<area>/csv.py``) on the engine of ``app.transfer.bulk``."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select

from app.countermeasures.csv import (
    COUNTERMEASURE_COLUMNS,
    _countermeasure_list,
    check_countermeasures,
    write_countermeasures,
)
from app.coverage.csv import (
    RESPONSIBILITY_COLUMNS,
    STAFF_COLUMNS,
    SYSTEM_COLUMNS,
    _responsibility_list,
    _staff_list,
    _system_list,
    check_responsibilities,
    check_staff,
    check_systems,
    write_responsibilities,
    write_staff,
    write_systems,
)
from app.extensions import db
from app.threats.csv import THREAT_COLUMNS, _threat_list, check_threats, write_threats
from app.threats.csv_history import (
    THREAT_SCORE_COLUMNS,
    THREAT_STATE_COLUMNS,
    _threat_score_list,
    _threat_state_list,
    check_threat_scores,
    check_threat_states,
    write_threat_scores,
    write_threat_states,
)
from app.transfer.bulk import EntityFormat

FORMATS: dict[str, EntityFormat] = {
    f.name: f
    for f in (
        EntityFormat(
            "threats",
            "Threats",
            THREAT_COLUMNS,
            _threat_list,
            write_threats,
            check_threats,
            everything={"sort": "title"},
        ),
        EntityFormat(
            "threat-scores",
            "Threat score history",
            THREAT_SCORE_COLUMNS,
            _threat_score_list,
            write_threat_scores,
            check_threat_scores,
            everything={"archived": "1"},
        ),
        EntityFormat(
            "threat-states",
            "Threat status and review history",
            THREAT_STATE_COLUMNS,
            _threat_state_list,
            write_threat_states,
            check_threat_states,
            everything={"archived": "1"},
        ),
        EntityFormat(
            "systems",
            "Systems",
            SYSTEM_COLUMNS,
            _system_list,
            write_systems,
            check_systems,
            everything={"show": "all", "sort": "name"},
        ),
        EntityFormat(
            "staff",
            "Staff",
            STAFF_COLUMNS,
            _staff_list,
            write_staff,
            check_staff,
            everything={"status": "all", "sort": "name"},
        ),
        EntityFormat(
            "responsibilities",
            "Responsibilities",
            RESPONSIBILITY_COLUMNS,
            _responsibility_list,
            write_responsibilities,
            check_responsibilities,
        ),
        EntityFormat(
            "countermeasures",
            "Countermeasures",
            COUNTERMEASURE_COLUMNS,
            _countermeasure_list,
            write_countermeasures,
            check_countermeasures,
            everything={"sort": "title"},
        ),
    )
}


def count_rows(fmt: EntityFormat, args: Mapping | None = None) -> int:
    query = fmt.list_query(fmt.everything if args is None else args).order_by(None)
    return db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
