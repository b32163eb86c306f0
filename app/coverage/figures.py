"""Coverage and hiring figures as of a date: the one home of the KR2 numbers.

The coverage page, the OKR metrics and the PDF report all call these. Each loads the
facts it needs with a few column queries (never one per system) and hands them to the
pure functions in ``app.domain.coverage``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from itertools import groupby
from operator import itemgetter

from sqlalchemy import and_, case, func, or_, select

from app import fiscal
from app.coverage.queries import in_production_on, responsibility_counts_on, staff_counts_on
from app.domain.coverage import (
    Coverage,
    CoverageGaps,
    ResponsibilityFact,
    StaffFact,
    SystemCoverage,
    SystemFact,
    coverage_as_of,
    coverage_gaps,
    coverage_trend,
    percent_of_goal,
    pipeline_as_of,
)
from app.domain.coverage import PositionStatusChange as StatusFact
from app.domain.quarters import Quarter, quarters_of_fiscal_year
from app.extensions import db
from app.figure_cache import coverage_cached
from app.models.setting import get_setting
from app.models.systems import (
    PositionStatus,
    PositionStatusChange,
    Responsibility,
    StaffMember,
    System,
    SystemProductionChange,
)

SPOF_POSITIONS_GOAL_KEY = "spof_positions_goal"
DEFAULT_SPOF_POSITIONS_GOAL = 4


def _rows(query):
    # Plain Core rows on the session's connection: the ORM result machinery costs several
    # times more for tens of thousands of rows, and these are read-only tuples anyway.
    # Streamed, not fetched as a list: each row is turned into a fact and dropped at once.
    return db.session.connection().execute(query)


def _system_facts(first: date) -> list[SystemFact]:
    # Only systems in production at some point and not retired before the window can count
    # on any of its days; their production changes come in the same query (outer join).
    rows = _rows(
        select(
            System.id,
            System.name,
            System.in_production,
            System.retired_on,
            SystemProductionChange.changed_on,
            SystemProductionChange.in_production,
        )
        .outerjoin(SystemProductionChange, SystemProductionChange.system_id == System.id)
        .where(_may_count_from(first))
        .order_by(System.id, SystemProductionChange.changed_on, SystemProductionChange.id)
    )
    facts = []
    for _, grouped in groupby(rows, key=itemgetter(0)):
        group = list(grouped)
        sid, name, flag, retired_on = group[0][:4]
        changes = tuple((r[4], r[5]) for r in group if r[4] is not None)
        facts.append(SystemFact(sid, name, flag, retired_on, changes))
    return facts


def _may_count_from(first: date):
    """Systems that can count on ``first`` or later: not retired by then, and in
    production now or with a recorded production change."""
    return and_(
        or_(
            System.in_production.is_(True),
            System.id.in_(select(SystemProductionChange.system_id)),
        ),
        or_(System.retired_on.is_(None), System.retired_on > first),
    )


def _staff_facts() -> list[StaffFact]:
    rows = _rows(select(StaffMember.id, StaffMember.name, StaffMember.left_on))
    return [StaffFact._make(r) for r in rows]


def responsibility_facts(
    first: date, last: date, exclude_id: int | None = None
) -> list[ResponsibilityFact]:
    # The kind (primary or backup) does not change coverage, so it is not loaded.
    query = select(
        Responsibility.staff_member_id,
        Responsibility.system_id,
        Responsibility.since,
        Responsibility.until,
    ).where(
        Responsibility.since <= last,
        or_(Responsibility.until.is_(None), Responsibility.until >= first),
        # Only rows that can count: for a production system, held by someone present then.
        Responsibility.system_id.in_(select(System.id).where(_may_count_from(first))),
        Responsibility.staff_member_id.in_(
            select(StaffMember.id).where(
                or_(StaffMember.left_on.is_(None), StaffMember.left_on >= first)
            )
        ),
    )
    if exclude_id is not None:
        query = query.where(Responsibility.id != exclude_id)
    return [ResponsibilityFact(*r) for r in _rows(query)]


def load_facts(
    first: date, last: date | None = None
) -> tuple[list[SystemFact], list[StaffFact], list[ResponsibilityFact]]:
    """Every fact that can matter for coverage on a day between ``first`` and ``last``."""
    last = last or first
    return _system_facts(first), _staff_facts(), responsibility_facts(first, last)


def coverage_on(as_of: date) -> Coverage:
    """Coverage on ``as_of`` (remembered until systems, staff or responsibilities change:
    read-only, every caller shares it)."""
    return _coverage_on(as_of)


@coverage_cached
def _coverage_on(as_of: date) -> Coverage:
    return coverage_as_of(*load_facts(as_of), as_of)


# Days counted per query: each adds two aggregates and a production probe per system.
_DAYS_PER_QUERY = 8


def _short_systems_query(days: list[date]):
    """(system id, name, flag now, retired on, then per day: lowest and highest holder id,
    then per day: in production that day) of each system short of two holders on at least
    one of ``days``: the rules of ``app.domain.coverage`` in SQL, from the day conditions
    of ``app.coverage.queries``.

    The responsibilities are read once for every day (an aggregate per day over the rows
    in force that day, not a pass per day), and a system comes back once whatever the
    number of days. Holders are grouped per system by their lowest and highest id (equal:
    one holder; none: no holder), which needs no DISTINCT.
    """
    r = Responsibility
    holders = []
    for day in days:
        holder = case(
            (and_(responsibility_counts_on(day), staff_counts_on(day)), r.staff_member_id)
        )
        holders += [func.min(holder), func.max(holder)]
    held = (
        select(r.system_id.label("system_id"), *holders)
        .join(StaffMember, StaffMember.id == r.staff_member_id)
        .where(r.since <= max(days), or_(r.until.is_(None), r.until >= min(days)))
        .group_by(r.system_id)
        .subquery("held")
    )
    lowest = [held.c[2 * i + 1] for i in range(len(days))]
    highest = [held.c[2 * i + 2] for i in range(len(days))]
    # Production is probed only in the columns (once per returned row and day), not here.
    short_on = [
        and_(
            or_(lowest[i].is_(None), lowest[i] == highest[i]),
            or_(System.retired_on.is_(None), System.retired_on > day),
        )
        for i, day in enumerate(days)
    ]
    return (
        select(
            System.id,
            System.name,
            System.in_production,
            System.retired_on,
            *(column for pair in zip(lowest, highest, strict=True) for column in pair),
            *(in_production_on(day) for day in days),
        )
        .outerjoin(held, held.c.system_id == System.id)
        .where(or_(*short_on))
    )


def coverage_gaps_on_dates(dates: Iterable[date]) -> dict[date, CoverageGaps]:
    """The gaps of each of ``dates`` (equal to ``coverage_on``'s figures and lists of that
    day) from one query that counts holders in the database: only the few systems short of
    two holders come back, not every responsibility. Each day is then remembered as
    ``coverage_gaps_on`` remembers it (a report reads several dates)."""
    answers = _gaps_on_days(sorted(set(dates)))
    _coverage_gaps_on.remember({(day,): gaps for day, gaps in answers.items()})
    return answers


def coverage_gaps_on(as_of: date) -> CoverageGaps:
    """The gaps of ``as_of`` (remembered until systems, staff or responsibilities change;
    read-only, every caller shares it)."""
    return _coverage_gaps_on(as_of)


@coverage_cached
def _coverage_gaps_on(as_of: date) -> CoverageGaps:
    return _gaps_on_days([as_of])[as_of]


def _gaps_on_days(days: list[date]) -> dict[date, CoverageGaps]:
    if not days:
        return {}
    short: dict[date, list[SystemCoverage]] = {day: [] for day in days}
    for start in range(0, len(days), _DAYS_PER_QUERY):
        _short_on(days[start : start + _DAYS_PER_QUERY], short)
    sole = sorted({e.staff_ids[0] for entries in short.values() for e in entries if e.staff_ids})
    staff = []
    if sole:
        query = select(StaffMember.id, StaffMember.name, StaffMember.left_on)
        staff = [StaffFact._make(row) for row in _rows(query.where(StaffMember.id.in_(sole)))]
    return {day: coverage_gaps(day, entries, staff) for day, entries in short.items()}


def _short_on(days: list[date], short: dict[date, list[SystemCoverage]]) -> None:
    """Add to ``short`` each system counted on one of ``days`` with fewer than two holders."""
    n = len(days)
    for row in _rows(_short_systems_query(days)):
        sid, name, flag, retired_on = row[:4]
        system = None
        for i, day in enumerate(days):
            lowest, highest, produced = row[4 + 2 * i], row[5 + 2 * i], row[4 + 2 * n + i]
            if lowest is not None and lowest != highest:
                continue
            if retired_on is not None and retired_on <= day:
                continue
            if not produced:
                continue
            # Only a short system's id and name are read: its production changes are not.
            system = system or SystemFact(sid, name, flag, retired_on)
            holders = () if lowest is None else (lowest,)
            short[day].append(SystemCoverage(system, holders))


def coverage_trend_for_fiscal_year(fiscal_year: int) -> list[tuple[Quarter, int, int, int]]:
    """(quarter, SPOF staff, SPOF systems, uncovered systems) at each quarter end."""
    return list(coverage_with_trend(None, fiscal_year)[1])


def coverage_with_trend(
    as_of: date | None, fiscal_year: int
) -> tuple[Coverage | None, list[tuple[Quarter, int, int, int]]]:
    """Coverage on ``as_of`` and the fiscal year's quarter-end trend from one load of facts.

    Loading and counting 20,000 responsibilities takes most of a /coverage request, so the
    answer is remembered per process until systems, staff or responsibilities change
    (``app.figure_cache``); it is read-only, every caller shares it.
    """
    result, trend = _coverage_with_trend(as_of, fiscal_year, fiscal.start_month())
    return result, list(trend)


@coverage_cached
def _coverage_with_trend(
    as_of: date | None, fiscal_year: int, start_month: int
) -> tuple[Coverage | None, tuple[tuple[Quarter, int, int, int], ...]]:
    quarters = quarters_of_fiscal_year(fiscal_year, start_month)
    ends = [q.last_day for q in quarters]
    days = ends + ([as_of] if as_of else [])
    systems, staff, responsibilities = load_facts(min(days), max(days))
    trend = coverage_trend(systems, staff, responsibilities, ends)
    rows = [(q, *row[1:]) for q, row in zip(quarters, trend, strict=True)]
    result = coverage_as_of(systems, staff, responsibilities, as_of) if as_of else None
    return result, tuple(rows)


def spof_staff_count(as_of: date) -> int:
    """KR2: distinct staff members solely responsible for at least one production system."""
    return coverage_gaps_on(as_of).spof_staff_count


def spof_system_count(as_of: date) -> int:
    return coverage_gaps_on(as_of).spof_system_count


def uncovered_systems_count(as_of: date) -> int:
    return coverage_gaps_on(as_of).uncovered_count


# Hiring pipeline.


def pipeline_on(as_of: date) -> dict[PositionStatus, int]:
    """Positions per status on ``as_of`` (from the dated status history), in pipeline order."""
    rows = db.session.execute(
        select(
            PositionStatusChange.position_id,
            PositionStatusChange.status,
            PositionStatusChange.changed_on,
        )
        .where(PositionStatusChange.changed_on <= as_of)
        .order_by(PositionStatusChange.changed_on, PositionStatusChange.id)
    )
    counts = pipeline_as_of(
        (StatusFact(r.position_id, r.status.value, r.changed_on) for r in rows), as_of
    )
    return {PositionStatus(name): n for name, n in counts.items()}


def positions_filled(as_of: date) -> int:
    return pipeline_on(as_of)[PositionStatus.FILLED]


def positions_in_active_hiring(as_of: date) -> int:
    """Positions whose status on the date is "active hiring" (final stages counted apart)."""
    return pipeline_on(as_of)[PositionStatus.ACTIVE_HIRING]


def positions_in_final_stages(as_of: date) -> int:
    return pipeline_on(as_of)[PositionStatus.FINAL_STAGES]


def spof_positions_goal() -> int:
    value = get_setting(SPOF_POSITIONS_GOAL_KEY, DEFAULT_SPOF_POSITIONS_GOAL)
    try:
        return int(value)
    except (TypeError, ValueError):
        return DEFAULT_SPOF_POSITIONS_GOAL


def hiring_summary(as_of: date) -> dict:
    """The KR2 hiring figures on one date, from one pipeline query."""
    pipeline = pipeline_on(as_of)
    goal = spof_positions_goal()
    filled = pipeline[PositionStatus.FILLED]
    return {
        "pipeline": pipeline,
        "goal": goal,
        "filled": filled,
        "filled_percent": percent_of_goal(filled, goal),
        "active_hiring": pipeline[PositionStatus.ACTIVE_HIRING],
        "final_stages": pipeline[PositionStatus.FINAL_STAGES],
    }
