"""The countermeasures list as a query: filters and sort read from a query string.

One code path for the list page (``app.countermeasures.views.register.index``, which paginates it)
and the CSV export (``app.transfer``, which writes every row in the same order).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import and_, or_, select

from app import fiscal
from app.domain.quarters import QuarterError
from app.models.countermeasures import (
    Countermeasure,
    CountermeasureStatus,
    CountermeasureType,
    countermeasure_threats,
)
from app.models.user import User
from app.validation import id_or_none

# Each sort is one column, then the id (newest first for a descending sort).
SORTS = {
    "title": Countermeasure.title,
    "type": Countermeasure.type,
    "status": Countermeasure.status,
    "owner": User.name,
    "target": Countermeasure.target_quarter_start,
    "deployed": Countermeasure.deployed_on,
    "updated": Countermeasure.updated_at,
    "id": Countermeasure.id,
}
# The filters that pick one of a choice, by its name (case ignored).
CHOICES = {"status": CountermeasureStatus, "type": CountermeasureType}
DEFAULT_SORT = "-id"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def parse_filters(args: Mapping) -> tuple[dict, list[str]]:
    """The list's filters, and a message for each value that was ignored."""
    problems = []
    filters = {
        "status": None,
        "type": None,
        "owner": id_or_none(args.get("owner")),
        "threat": id_or_none(args.get("threat")),
        "quarter": None,
        "q": (args.get("q") or "").strip()[:200],
        # Catalogue entries it is mapped to on ``as_of`` (or today): ?technique=, ?control=.
        "technique": (args.get("technique") or "").strip()[:40],
        "control": (args.get("control") or "").strip()[:40],
        "as_of": None,
    }
    try:
        filters["as_of"] = fiscal.parse_date_or_none(args.get("as_of"))
    except ValueError as error:
        problems.append(f"{error} The date was ignored.")
    for name, choice in CHOICES.items():
        text = (args.get(name) or "").strip().upper()
        if text in choice.__members__:
            filters[name] = choice[text]
        elif text:
            problems.append(f'Unknown {name} "{text.lower()}"; the filter was ignored.')
    try:
        filters["quarter"] = fiscal.quarter_or_none((args.get("quarter") or "").strip())
    except QuarterError as error:
        problems.append(f"{error} The quarter filter was ignored.")
    return filters, problems


def filtered_query(filters: dict):
    query = select(Countermeasure)
    if filters["status"]:
        query = query.where(Countermeasure.status == filters["status"])
    if filters["type"]:
        query = query.where(Countermeasure.type == filters["type"])
    if filters["owner"] is not None:
        query = query.where(Countermeasure.owner_id == filters["owner"])
    if filters["threat"] is not None:
        query = query.where(
            Countermeasure.id.in_(
                select(countermeasure_threats.c.countermeasure_id).where(
                    countermeasure_threats.c.threat_id == filters["threat"]
                )
            )
        )
    quarter = filters["quarter"]
    if quarter is not None:
        # The quarter it counts in: its deployment quarter once deployed, its target before.
        query = query.where(
            or_(
                Countermeasure.deployed_on.between(quarter.first_day, quarter.last_day),
                and_(
                    Countermeasure.deployed_on.is_(None),
                    Countermeasure.target_quarter_start == quarter.first_day,
                ),
            )
        )
    if filters.get("technique") or filters.get("control"):
        from app.catalogues.queries import countermeasure_ids_mapped_to
        from app.models.catalogues import LibraryKind

        day = filters.get("as_of") or fiscal.today()
        for key, kind in (("technique", LibraryKind.ATTACK), ("control", LibraryKind.FRAMEWORK)):
            if filters.get(key):
                query = query.where(
                    Countermeasure.id.in_(countermeasure_ids_mapped_to(filters[key], day, kind))
                )
    if filters["q"]:
        query = query.where(
            Countermeasure.title.ilike(f"%{_escape_like(filters['q'])}%", escape="\\")
        )
    return query


def sorted_query(query, sort: str):
    key = sort.lstrip("-")
    if key not in SORTS:
        sort, key = DEFAULT_SORT, DEFAULT_SORT.lstrip("-")
    if key == "owner":
        query = query.outerjoin(User, User.id == Countermeasure.owner_id)
    column = SORTS[key]
    descending = sort.startswith("-")
    if key == "id":  # newest first by default: the primary key, no sort step
        return query.order_by(Countermeasure.id.desc() if descending else Countermeasure.id)
    order = column.desc().nulls_last() if descending else column.asc().nulls_last()
    tiebreak = Countermeasure.id.desc() if descending else Countermeasure.id.asc()
    return query.order_by(order, tiebreak)


def list_query(args: Mapping) -> tuple:
    """(SELECT in the list's order, filters, problems) from a query string; a value the
    list cannot use is ignored and named in ``problems``."""
    filters, problems = parse_filters(args)
    query = sorted_query(filtered_query(filters), args.get("sort") or DEFAULT_SORT)
    return query, filters, problems
