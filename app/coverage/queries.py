"""Coverage as of a date in SQL, for lists that filter and sort by it without a query per row.

The same rules as ``app.domain.coverage`` (tested to agree on the demo data): a production
system not retired on the day counts; a staff member counts until their leaving date
(inclusive); a responsibility counts from
``since`` to ``until`` inclusive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date

from sqlalchemy import Boolean, Select, and_, case, distinct, exists, func, or_, select
from sqlalchemy.orm import selectinload, with_expression

from app import fiscal, validation
from app.domain.coverage import CoverageState
from app.extensions import db
from app.models.systems import (
    Criticality,
    Responsibility,
    StaffMember,
    System,
    SystemProductionChange,
)


def in_production_on(d: date):
    """``SystemFact.in_production_on`` in SQL: the flag before the first change after ``d``
    (the opposite of that change), else the flag now."""
    first_later = (
        select(~SystemProductionChange.in_production)
        .where(SystemProductionChange.system_id == System.id, SystemProductionChange.changed_on > d)
        .order_by(SystemProductionChange.changed_on, SystemProductionChange.id)
        .limit(1)
        .correlate(System)
        .scalar_subquery()
    )
    # Most days (today, above all) have no change after them: one uncorrelated probe,
    # evaluated once per statement, spares the per-system lookup of every listed row.
    any_later = exists().where(SystemProductionChange.changed_on > d)
    return func.coalesce(
        case((any_later, first_later), else_=None), System.in_production, type_=Boolean
    )


def system_counts_on(d: date):
    """``SystemFact.counts_on`` in SQL."""
    return and_(
        or_(System.retired_on.is_(None), System.retired_on > d), in_production_on(d).is_(True)
    )


def counted_on(d: date):
    """Load option: ``System.counted`` says whether each loaded system counts on ``d``."""
    return with_expression(System.counted, system_counts_on(d))


def staff_counts_on(d: date):
    return or_(StaffMember.left_on.is_(None), StaffMember.left_on >= d)


def responsibility_counts_on(d: date):
    return and_(
        Responsibility.since <= d,
        or_(Responsibility.until.is_(None), Responsibility.until >= d),
    )


def holders_subquery(d: date):
    """(system_id, holders): distinct present staff responsible for each system on ``d``."""
    return (
        select(
            Responsibility.system_id.label("system_id"),
            func.count(distinct(Responsibility.staff_member_id)).label("holders"),
        )
        .join(StaffMember, StaffMember.id == Responsibility.staff_member_id)
        .where(responsibility_counts_on(d), staff_counts_on(d))
        .group_by(Responsibility.system_id)
        .subquery("holders")
    )


def sole_systems_subquery(d: date):
    """(staff_member_id, sole): production systems on which each person is the only holder."""
    holders = holders_subquery(d)
    spof_ids = (
        select(holders.c.system_id)
        .join(System, System.id == holders.c.system_id)
        .where(holders.c.holders == 1, system_counts_on(d))
    )
    return (
        select(
            Responsibility.staff_member_id.label("staff_member_id"),
            func.count(distinct(Responsibility.system_id)).label("sole"),
        )
        .join(StaffMember, StaffMember.id == Responsibility.staff_member_id)
        .where(
            responsibility_counts_on(d),
            staff_counts_on(d),
            Responsibility.system_id.in_(spof_ids),
        )
        .group_by(Responsibility.staff_member_id)
        .subquery("sole")
    )


def _named_per_id(
    wanted: Iterable[int], query: Callable[[list[int]], Select]
) -> dict[int, list[tuple[int, str]]]:
    """The rows (id asked, id, name) of ``query`` for the ids ``wanted``, as a list of
    (id, name) per id asked (empty when none): one query for a page, none for no ids."""
    ids = list(wanted)
    result: dict[int, list[tuple[int, str]]] = {key: [] for key in ids}
    if ids:
        for key, record_id, name in db.session.execute(query(ids)):
            result[key].append((record_id, name))
    return result


def holders_of(system_ids: Iterable[int], d: date) -> dict[int, list[tuple[int, str]]]:
    """Present people responsible for each of these systems on ``d``."""
    return _named_per_id(
        system_ids,
        lambda ids: select(Responsibility.system_id, StaffMember.id, StaffMember.name)
        .join(StaffMember, StaffMember.id == Responsibility.staff_member_id)
        .where(Responsibility.system_id.in_(ids), responsibility_counts_on(d), staff_counts_on(d))
        .distinct()
        .order_by(StaffMember.name),
    )


def systems_of(staff_ids: Iterable[int], d: date) -> dict[int, list[tuple[int, str]]]:
    """Systems each of these people is responsible for on ``d``.

    Only what they really answer for that day: not systems retired by then, and nothing for
    someone who has left.
    """
    return _named_per_id(
        staff_ids,
        lambda ids: select(Responsibility.staff_member_id, System.id, System.name)
        .join(System, System.id == Responsibility.system_id)
        .join(StaffMember, StaffMember.id == Responsibility.staff_member_id)
        .where(
            Responsibility.staff_member_id.in_(ids),
            responsibility_counts_on(d),
            staff_counts_on(d),
            or_(System.retired_on.is_(None), System.retired_on > d),
        )
        .distinct()
        .order_by(System.name),
    )


def responsibilities_held(person: StaffMember, d: date) -> dict:
    """A person's page: their ``responsibilities`` (latest first, systems counted on ``d``),
    who ``holders`` each system on ``d``, and its coverage state (``states``)."""
    responsibilities = db.session.scalars(
        select(Responsibility)
        .where(Responsibility.staff_member_id == person.id)
        .options(selectinload(Responsibility.system).options(counted_on(d)))
        .order_by(Responsibility.since.desc(), Responsibility.id.desc())
    ).all()
    holders = holders_of({r.system_id for r in responsibilities}, d)
    states = {r.system_id: state_for(r.system, len(holders[r.system_id])) for r in responsibilities}
    return {"responsibilities": responsibilities, "holders": holders, "states": states}


def state_for(system: System, holders: int) -> CoverageState | None:
    """Coverage state of a system loaded with ``counted_on(d)`` with this many holders on
    that day (None: not counted)."""
    if not system.counted:
        return None
    return CoverageState.of(holders)


# The systems and staff lists as queries: filters and sort read from a query string. One
# code path for the pages (``app.coverage.views``, which paginate them) and the CSV export
# (``app.transfer``, which writes every row in the same order).

STATES = tuple(state.value for state in CoverageState)
CRITICALITY_ORDER = case({c.name: i for i, c in enumerate(Criticality)}, value=System.criticality)
SYSTEM_SORTS = {
    "name": func.lower(System.name),
    "team": System.team,
    "criticality": CRITICALITY_ORDER,
    "updated": System.updated_at,
}
STAFF_SORTS = {
    "name": func.lower(StaffMember.name),
    "team": StaffMember.team,
    "left": StaffMember.left_on,
}


def as_of_from(args: Mapping) -> tuple[date, str | None]:
    """The ``date`` argument or today; a readable error (and today) for an impossible date."""
    try:
        return fiscal.parse_date_or_none(args.get("date")) or fiscal.today(), None
    except ValueError as error:
        return fiscal.today(), str(error)


def _searched(query: Select, args: Mapping, model: type[System] | type[StaffMember], *columns):
    """``query`` narrowed by a list's search (``q``: part of any of ``columns``) and team."""
    q = args.get("q", "").strip()
    if q:
        like = f"%{q}%"
        query = query.where(or_(*(column.ilike(like) for column in columns)))
    if args.get("team"):
        query = query.where(model.team == args["team"])
    return query


def systems_list_query(args: Mapping, as_of: date):
    """SELECT the systems the list shows with these filters, in its order (no page)."""
    query = _searched(
        select(System).options(counted_on(as_of)), args, System, System.name, System.description
    )
    if args.get("criticality") in Criticality.__members__:
        query = query.where(System.criticality == Criticality[args["criticality"]])
    if args.get("production") in ("yes", "no"):
        query = query.where(System.in_production.is_(args["production"] == "yes"))
    show = args.get("show", "current")
    if show == "current":
        query = query.where(or_(System.retired_on.is_(None), System.retired_on > as_of))
    elif show == "retired":
        query = query.where(System.retired_on <= as_of)
    state = args.get("state", "")
    sort = args.get("sort", "name")
    key = sort.lstrip("-")
    holders = None
    if state in STATES or key == "people":
        holders_sub = holders_subquery(as_of)
        holders = func.coalesce(holders_sub.c.holders, 0)
        query = query.outerjoin(holders_sub, holders_sub.c.system_id == System.id)
        counted = system_counts_on(as_of)
        if state == CoverageState.SPOF:
            query = query.where(counted, holders == 1)
        elif state == CoverageState.UNCOVERED:
            query = query.where(counted, holders == 0)
        elif state == CoverageState.COVERED:
            query = query.where(counted, holders >= 2)
    column = (
        holders if key == "people" and holders is not None else SYSTEM_SORTS.get(key, System.name)
    )
    order = column.desc() if sort.startswith("-") else column.asc()
    return query.order_by(order, func.lower(System.name), System.id)


def staff_list_query(args: Mapping, today: date):
    """SELECT the staff the list shows with these filters, in its order (no page)."""
    query = _searched(select(StaffMember), args, StaffMember, StaffMember.name, StaffMember.email)
    status = args.get("status", "present")
    present = staff_counts_on(today)
    if status == "present":
        query = query.where(present)
    elif status == "left":
        query = query.where(StaffMember.left_on < today)
    sort = args.get("sort", "name")
    key = sort.lstrip("-")
    sole = None
    if args.get("sole") == "yes" or key == "sole":
        sole_sub = sole_systems_subquery(today)
        sole = func.coalesce(sole_sub.c.sole, 0)
        query = query.outerjoin(sole_sub, sole_sub.c.staff_member_id == StaffMember.id)
        if args.get("sole") == "yes":
            query = query.where(sole > 0)
    column = sole if key == "sole" and sole is not None else STAFF_SORTS.get(key, StaffMember.name)
    order = column.desc() if sort.startswith("-") else column.asc()
    return query.order_by(order, func.lower(StaffMember.name), StaffMember.id)


def systems_filtered(args: Mapping) -> bool:
    """Whether these filters narrow the systems list from its default (systems in service)."""
    return bool(
        args.get("q", "").strip()
        or args.get("team")
        or args.get("criticality") in Criticality.__members__
        or args.get("production") in ("yes", "no")
        or args.get("state") in STATES
        or args.get("show", "current") != "current"
        or args.get("date")
    )


def staff_filtered(args: Mapping) -> bool:
    """Whether these filters narrow the staff list from its default (present staff)."""
    return bool(
        args.get("q", "").strip()
        or args.get("team")
        or args.get("status", "present") != "present"
        or args.get("sole") == "yes"
    )


def _sort_keys(keys) -> set[str]:
    return {*keys, *(f"-{k}" for k in keys)}


def systems_ignored_filters(args: Mapping) -> list[str]:
    """What the systems list ignores in this query string (the page says so)."""
    return validation.ignored_filters(
        args,
        {
            "criticality": set(Criticality.__members__),
            "production": {"yes", "no"},
            "show": {"current", "retired", "all"},
            "state": set(STATES),
            "sort": _sort_keys([*SYSTEM_SORTS, "people"]),
        },
    )


def staff_ignored_filters(args: Mapping) -> list[str]:
    """What the staff list ignores in this query string (the page says so)."""
    return validation.ignored_filters(
        args,
        {
            "status": {"present", "left", "all"},
            "sole": {"yes"},
            "sort": _sort_keys([*STAFF_SORTS, "sole"]),
        },
    )
