"""Single-point-of-failure (SPOF) coverage of production systems as of a date.

Works on plain facts so it can be computed for any past date from history rows, and fast
enough for thousands of systems: every function indexes its inputs once (O(rows)). The
facts are named tuples: tens of thousands are built per request, and tuples of plain
values are the cheapest objects to build and the garbage collector stops tracking them.
"""

from __future__ import annotations

import enum
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

__all__ = [
    "POSITION_STATUSES",
    "Coverage",
    "CoverageError",
    "CoverageGaps",
    "CoverageState",
    "DepartureImpact",
    "PositionStatusChange",
    "ResponsibilityFact",
    "StaffFact",
    "SystemCoverage",
    "SystemFact",
    "coverage_as_of",
    "coverage_gaps",
    "coverage_on_days",
    "coverage_trend",
    "departure_impact",
    "percent_of_goal",
    "pipeline_as_of",
    "responsibility_end_impact",
]


class CoverageState(enum.StrEnum):
    """A counted production system on a day, by how many people are responsible for it.

    Members are their stored words ("spof"): query strings, CSV cells and the API use them.
    """

    COVERED = "covered"
    SPOF = "spof"
    UNCOVERED = "uncovered"

    @classmethod
    def of(cls, holders: int) -> CoverageState:
        if holders == 0:
            return cls.UNCOVERED
        return cls.SPOF if holders == 1 else cls.COVERED

    @property
    def label(self) -> str:
        """The words of the systems list's filter."""
        return _STATE_WORDS[self][0]

    @property
    def badge(self) -> str:
        """The short word of its badge."""
        return _STATE_WORDS[self][1]

    @property
    def tone(self) -> str:
        """The colour of its badge (a Bootstrap tone)."""
        return _STATE_WORDS[self][2]


_STATE_WORDS = {
    CoverageState.COVERED: ("Covered (2+ people)", "Covered", "success"),
    CoverageState.SPOF: ("Single point of failure", "SPOF", "warning"),
    CoverageState.UNCOVERED: ("Uncovered", "Uncovered", "danger"),
}


class CoverageError(ValueError):
    """A what-if question that refers to something not in the inputs."""


class SystemFact(NamedTuple):
    id: int
    name: str
    # The production flag now; ``production_changes`` says since when.
    in_production: bool
    # First day it no longer counts.
    retired_on: date | None = None
    # (day, in_production) changes in date order; before the first one the flag was the
    # opposite of it, with none the flag held all along.
    production_changes: tuple[tuple[date, bool], ...] = ()

    def in_production_on(self, d: date) -> bool:
        for day, flag in self.production_changes:
            if day > d:
                return not flag
        return self.in_production

    def counts_on(self, d: date) -> bool:
        """A production system not retired on ``d`` counts for coverage that day."""
        return (self.retired_on is None or self.retired_on > d) and self.in_production_on(d)


class StaffFact(NamedTuple):
    id: int
    name: str
    # Last working day, inclusive; None while the person stays.
    left_on: date | None = None

    def counts_on(self, d: date) -> bool:
        return self.left_on is None or self.left_on >= d


class ResponsibilityFact(NamedTuple):
    staff_id: int
    system_id: int
    since: date
    # Last day of the responsibility, inclusive.
    until: date | None = None
    kind: str = "primary"

    def counts_on(self, d: date) -> bool:
        return self.since <= d and (self.until is None or self.until >= d)


class SystemCoverage(NamedTuple):
    system: SystemFact
    staff_ids: tuple[int, ...]

    @property
    def state(self) -> CoverageState:
        return CoverageState.of(len(self.staff_ids))


class _Counts:
    """The day's three coverage figures, counted from its lists (``Coverage`` and
    ``CoverageGaps`` alike)."""

    spof_systems: list[SystemFact]
    uncovered_systems: list[SystemFact]
    sole_responsible: list[tuple[StaffFact, list[SystemFact]]]

    @property
    def spof_staff_count(self) -> int:
        """KR2: distinct people who are the only one responsible for a production system."""
        return len(self.sole_responsible)

    @property
    def spof_system_count(self) -> int:
        return len(self.spof_systems)

    @property
    def uncovered_count(self) -> int:
        return len(self.uncovered_systems)


@dataclass
class Coverage(_Counts):
    as_of: date
    systems: list[SystemCoverage]
    spof_systems: list[SystemFact] = field(default_factory=list)
    uncovered_systems: list[SystemFact] = field(default_factory=list)
    sole_responsible: list[tuple[StaffFact, list[SystemFact]]] = field(default_factory=list)

    @property
    def covered_count(self) -> int:
        return len(self.systems) - self.spof_system_count - self.uncovered_count


@dataclass
class CoverageGaps(_Counts):
    """Where a day's coverage falls short: its single points of failure, its uncovered
    systems and who alone holds what (``Coverage`` less the covered systems). The key
    results and the report read only these, so they need not hold every system."""

    as_of: date
    spof_systems: list[SystemFact]
    uncovered_systems: list[SystemFact]
    sole_responsible: list[tuple[StaffFact, list[SystemFact]]]


def coverage_gaps(
    as_of: date, short: Iterable[SystemCoverage], staff: Iterable[StaffFact]
) -> CoverageGaps:
    """The gaps of ``as_of`` from its counted systems with fewer than two holders (in any
    order) and their holders' facts: the same lists ``Coverage`` gives, by the same tally
    (covered systems play no part in it)."""
    entries = sorted(short, key=lambda e: _system_key(e.system))
    found = _tally(as_of, entries, _index_staff(staff))
    return CoverageGaps(as_of, found.spof_systems, found.uncovered_systems, found.sole_responsible)


def _system_key(system: SystemFact) -> tuple[str, int]:
    return (system.name.casefold(), system.id)


def _holding(
    responsibilities: Iterable[ResponsibilityFact],
    as_of: date,
    live: Container[int],
    present: Container[int],
) -> set[tuple[int, int]]:
    """The distinct (system, person) pairs in force on ``as_of`` among live systems and
    present staff. (counts_on, inlined: this runs once per responsibility and date.)"""
    return {
        (r.system_id, r.staff_id)
        for r in responsibilities
        if r.since <= as_of
        and (r.until is None or r.until >= as_of)
        and r.system_id in live
        and r.staff_id in present
    }


def _coverage(
    systems_by_id: Mapping[int, SystemFact],
    staff_by_id: Mapping[int, StaffFact],
    responsibilities: Iterable[ResponsibilityFact],
    as_of: date,
) -> Coverage:
    live = {sid: s for sid, s in systems_by_id.items() if s.counts_on(as_of)}
    present = {pid for pid, p in staff_by_id.items() if p.counts_on(as_of)}
    # Distinct (system, person) pairs, grouped per system in id order. Tuples of ints rather
    # than a set per system: thousands of sets per request keep the garbage collector busy.
    # Responsibilities of unknown staff or for unknown systems are ignored, not errors:
    # history rows may outlive the records they point to.
    pairs = sorted(_holding(responsibilities, as_of, live, present))
    holders: dict[int, tuple[int, ...]] = dict.fromkeys(live, ())
    for sid, group in groupby(pairs, key=itemgetter(0)):
        holders[sid] = tuple(pid for _, pid in group)

    entries = sorted(
        (SystemCoverage(live[sid], ids) for sid, ids in holders.items()),
        key=lambda e: _system_key(e.system),
    )
    return _tally(as_of, entries, staff_by_id)


def _tally(
    as_of: date, entries: list[SystemCoverage], staff_by_id: Mapping[int, StaffFact]
) -> Coverage:
    """The coverage of a day from its systems (in name order) and who holds each."""
    spof: list[SystemFact] = []
    uncovered: list[SystemFact] = []
    sole: dict[int, list[SystemFact]] = {}
    for entry in entries:
        state = entry.state
        if state is CoverageState.SPOF:
            spof.append(entry.system)
            sole.setdefault(entry.staff_ids[0], []).append(entry.system)
        elif state is CoverageState.UNCOVERED:
            uncovered.append(entry.system)
    sole_responsible = sorted(
        ((staff_by_id[pid], owned) for pid, owned in sole.items()),
        key=lambda pair: (pair[0].name.casefold(), pair[0].id),
    )
    return Coverage(as_of, entries, spof, uncovered, sole_responsible)


def _index_systems(systems: Iterable[SystemFact]) -> dict[int, SystemFact]:
    return {s.id: s for s in systems}


def _index_staff(staff: Iterable[StaffFact]) -> dict[int, StaffFact]:
    return {p.id: p for p in staff}


def coverage_as_of(
    systems: Iterable[SystemFact],
    staff: Iterable[StaffFact],
    responsibilities: Iterable[ResponsibilityFact],
    as_of: date,
) -> Coverage:
    return _coverage(_index_systems(systems), _index_staff(staff), responsibilities, as_of)


def coverage_on_days(
    systems: Iterable[SystemFact],
    staff: Iterable[StaffFact],
    responsibilities: Iterable[ResponsibilityFact],
    days: Iterable[date],
) -> dict[date, Coverage]:
    """The coverage of each day, equal to ``coverage_as_of`` of that day, reading the
    facts once for all of them (a report reads four or five days).

    What does not change between the days is prepared once: the systems in name order,
    and the (system, person) pairs in force on every day of the window; each day then
    re-checks only the responsibilities that start or end inside it. Reusing the same
    pair tuples every day also spares the garbage collector tens of thousands of objects.
    """
    days = sorted(set(days))
    if not days:
        return {}
    first, last = days[0], days[-1]
    ordered = sorted(_index_systems(systems).values(), key=_system_key)
    staff_by_id = _index_staff(staff)
    always: set[tuple[int, int]] = set()
    sometimes: list[ResponsibilityFact] = []
    for r in responsibilities:
        if r.since <= first and (r.until is None or r.until >= last):
            always.add((r.system_id, r.staff_id))
        elif r.since <= last and (r.until is None or r.until >= first):
            sometimes.append(r)
    stable = sorted(always)
    found = {}
    for as_of in days:
        live = {s.id for s in ordered if s.counts_on(as_of)}
        present = {pid for pid, p in staff_by_id.items() if p.counts_on(as_of)}
        holding: dict[int, list[int]] = {}
        for sid, pid in stable:
            if sid in live and pid in present:
                holding.setdefault(sid, []).append(pid)
        extra = _holding(sometimes, as_of, live, present)
        for sid, pid in extra:
            ids = holding.setdefault(sid, [])
            if pid not in ids:
                ids.append(pid)
        entries = [
            SystemCoverage(s, tuple(sorted(holding.get(s.id, ())))) for s in ordered if s.id in live
        ]
        found[as_of] = _tally(as_of, entries, staff_by_id)
    return found


def coverage_trend(
    systems: Iterable[SystemFact],
    staff: Iterable[StaffFact],
    responsibilities: Iterable[ResponsibilityFact],
    dates: Iterable[date],
) -> list[tuple[date, int, int, int]]:
    """(date, spof_staff_count, spof_system_count, uncovered_count) for each date, in order:
    the coverage of each date, by the one rule (``_coverage``)."""
    dates = list(dates)
    found = coverage_on_days(systems, staff, responsibilities, dates)
    trend = []
    for d in dates:
        c = found[d]
        trend.append((d, c.spof_staff_count, c.spof_system_count, c.uncovered_count))
    return trend


@dataclass(frozen=True)
class DepartureImpact:
    # First day without the person or responsibility; the coverage compared is on this day.
    effective_on: date
    new_spof_systems: list[SystemFact]
    new_uncovered_systems: list[SystemFact]

    @property
    def has_impact(self) -> bool:
        return bool(self.new_spof_systems or self.new_uncovered_systems)


def _diff(before: Coverage, after: Coverage) -> DepartureImpact:
    was_spof = {s.id for s in before.spof_systems}
    was_uncovered = {s.id for s in before.uncovered_systems}
    return DepartureImpact(
        effective_on=after.as_of,
        new_spof_systems=[s for s in after.spof_systems if s.id not in was_spof],
        new_uncovered_systems=[s for s in after.uncovered_systems if s.id not in was_uncovered],
    )


def _earlier(current: date | None, proposed: date) -> date:
    # A what-if can only bring an end date forward, never extend an existing one.
    return proposed if current is None else min(current, proposed)


def departure_impact(
    systems: Iterable[SystemFact],
    staff: Iterable[StaffFact],
    responsibilities: Iterable[ResponsibilityFact],
    staff_id: int,
    left_on: date,
) -> DepartureImpact:
    """Systems that become SPOF or uncovered on the day after ``left_on`` if this person leaves."""
    systems_by_id = _index_systems(systems)
    staff_by_id = _index_staff(staff)
    if staff_id not in staff_by_id:
        raise CoverageError(f"No staff member with id {staff_id}.")
    rows = list(responsibilities)
    day_after = left_on + timedelta(days=1)
    before = _coverage(systems_by_id, staff_by_id, rows, day_after)

    person = staff_by_id[staff_id]
    person = person._replace(left_on=_earlier(person.left_on, left_on))
    after = _coverage(systems_by_id, {**staff_by_id, staff_id: person}, rows, day_after)
    return _diff(before, after)


def responsibility_end_impact(
    systems: Iterable[SystemFact],
    staff: Iterable[StaffFact],
    responsibilities: Sequence[ResponsibilityFact],
    which: int | tuple[int, int],
    until: date,
) -> DepartureImpact:
    """Impact of ending a responsibility on ``until`` (last day inclusive).

    ``which`` is an index into ``responsibilities`` or a (staff_id, system_id) pair; a pair ends
    every responsibility that person has for that system (primary and backup alike).
    """
    systems_by_id = _index_systems(systems)
    staff_by_id = _index_staff(staff)
    rows = list(responsibilities)
    if isinstance(which, tuple):
        staff_id, system_id = which
        targets = [
            i for i, r in enumerate(rows) if (r.staff_id, r.system_id) == (staff_id, system_id)
        ]
        if not targets:
            raise CoverageError(
                f"Staff member {staff_id} has no responsibility for system {system_id}."
            )
    else:
        if isinstance(which, bool) or not isinstance(which, int) or not 0 <= which < len(rows):
            raise CoverageError(f"No responsibility at position {which!r}.")
        targets = [which]

    day_after = until + timedelta(days=1)
    before = _coverage(systems_by_id, staff_by_id, rows, day_after)
    changed = list(rows)
    for i in targets:
        changed[i] = rows[i]._replace(until=_earlier(rows[i].until, until))
    after = _coverage(systems_by_id, staff_by_id, changed, day_after)
    return _diff(before, after)


# Recruitment pipeline for the hiring key result.

POSITION_STATUSES: tuple[str, ...] = (
    "planned",
    "active_hiring",
    "final_stages",
    "filled",
    "cancelled",
)


@dataclass(frozen=True)
class PositionStatusChange:
    position_id: int
    status: str
    changed_on: date

    def __post_init__(self) -> None:
        if self.status not in POSITION_STATUSES:
            raise CoverageError(
                f'Unknown position status "{self.status}": expected one of '
                f"{', '.join(POSITION_STATUSES)}."
            )


def _statuses_as_of(changes: Iterable[PositionStatusChange], as_of: date) -> dict[int, str]:
    latest: dict[int, PositionStatusChange] = {}
    for change in changes:
        if change.changed_on > as_of:
            continue
        current = latest.get(change.position_id)
        # ">=" so that, on the same day, the change given later wins.
        if current is None or change.changed_on >= current.changed_on:
            latest[change.position_id] = change
    return {pid: change.status for pid, change in latest.items()}


def pipeline_as_of(changes: Iterable[PositionStatusChange], as_of: date) -> dict[str, int]:
    """Positions per status on ``as_of``; every known status is a key, in pipeline order."""
    counts = dict.fromkeys(POSITION_STATUSES, 0)
    for status in _statuses_as_of(changes, as_of).values():
        counts[status] += 1
    return counts


def percent_of_goal(value: int, goal: int) -> int:
    """Whole percent of ``goal`` reached, rounding halves up (12.5% shows as 13%)."""
    if goal <= 0:
        return 0
    ratio = Decimal(value) * 100 / Decimal(goal)
    return int(ratio.quantize(Decimal(1), rounding=ROUND_HALF_UP))
