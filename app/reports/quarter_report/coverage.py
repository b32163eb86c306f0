"""The coverage and hiring sections: single points of failure, the trend against the
coverage key result's target, positions opened and filled."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.domain.quarters import Quarter, quarters_of_fiscal_year
from app.extensions import db
from app.models.okrs import KeyResult, Objective
from app.reports.quarter_report.sections import LIST_CAP
from app.reports.quarter_report.values import (
    COVERAGE_GOAL_METRICS,
    CoverageSection,
    CoverageTarget,
    TargetPoint,
    TrendPoint,
)


def _most_critical(systems: list, as_of: date) -> list[tuple[str, str]]:
    """The ``LIST_CAP`` most critical of these systems as of ``as_of`` (by name within a
    level): the criticality in force then, so a later change leaves a past report as it was."""
    from app.models.systems import Criticality, System, SystemCriticalityChange

    rank = {level: i for i, level in enumerate(Criticality)}
    ids = [s.id for s in systems]
    found: dict[int, Criticality] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        found.update(
            db.session.execute(select(System.id, System.criticality).where(System.id.in_(chunk)))
            .tuples()
            .all()
        )
        # The first change after the day says what held on it.
        later = db.session.execute(
            select(SystemCriticalityChange.system_id, SystemCriticalityChange.previous)
            .where(
                SystemCriticalityChange.system_id.in_(chunk),
                SystemCriticalityChange.changed_on > as_of,
            )
            .order_by(
                SystemCriticalityChange.system_id.desc(),
                SystemCriticalityChange.changed_on.desc(),
                SystemCriticalityChange.id.desc(),
            )
        ).tuples()
        found.update(dict(later.all()))  # the earliest change of each system is written last
    ordered = sorted(
        systems, key=lambda s: (-rank[found[s.id]] if s.id in found else 1, s.name, s.id)
    )
    return [(s.name, found[s.id].label if s.id in found else "-") for s in ordered[:LIST_CAP]]


def _coverage_key_result(objective: Objective | None) -> KeyResult | None:
    if objective is None:
        return None
    for kr in objective.key_results:
        if kr.metric in COVERAGE_GOAL_METRICS and kr.goal_value is not None:
            return kr
    return None


def _baseline_day(kr: KeyResult, quarters: list[Quarter]) -> tuple[date, str]:
    """Where a key result's baseline stands: the end of its baseline quarter, or the
    fiscal year's first day."""
    for q in quarters:
        if q.first_day == kr.baseline_quarter_start:
            return q.last_day, f"end of {q.label}"
    first = quarters[0].first_day
    return first, f"{first.day} {first:%B %Y}"


def coverage_target(
    kr: KeyResult,
    quarter: Quarter,
    as_of: date,
    known: dict,
) -> CoverageTarget | None:
    """The key result's target line for the coverage chart, from its goal and baseline
    quarter and the staff solely responsible measured on the days in ``known`` (which
    must hold the baseline day and the quarter ends up to ``quarter``). None while the
    baseline is still ahead."""
    from app.domain.targets import staff_target_path

    year = quarters_of_fiscal_year(quarter.fiscal_year, quarter.start_month)
    day, label = _baseline_day(kr, year)
    if day > as_of or day not in known or kr.goal_value is None:
        return None
    baseline = known[day].spof_staff_count
    goal = int(kr.goal_value)
    if kr.metric != "spof_staff":
        goal = max(0, baseline - goal)
    measured = {
        q: known[q.last_day if q != quarter else as_of].spof_staff_count
        for q in year
        if q <= quarter
    }
    path = staff_target_path(baseline, goal, year, kr.baseline_quarter_start, measured)
    return CoverageTarget(
        code=kr.code or "the key result",
        baseline=baseline,
        baseline_label=label,
        goal=goal,
        points=tuple(
            TargetPoint(q.label, target, value, projected) for q, target, value, projected in path
        ),
    )


def gather_coverage(
    quarter: Quarter,
    as_of: date,
    detail: bool = True,
    known: dict | None = None,
    objective: Objective | None = None,
) -> CoverageSection:
    """``known``: coverage gaps already computed by date (``coverage_gaps_on_dates``)."""
    from app.coverage import figures

    quarters = [
        q for q in quarters_of_fiscal_year(quarter.fiscal_year, quarter.start_month) if q <= quarter
    ]
    previous_end = quarter.previous().last_day
    ends = [q.last_day if q != quarter else as_of for q in quarters]
    known = dict(known or {})
    kr = _coverage_key_result(objective) if detail else None
    year = quarters_of_fiscal_year(quarter.fiscal_year, quarter.start_month)
    baseline_day = [_baseline_day(kr, year)[0]] if kr is not None else []
    wanted = [*ends, previous_end, *(d for d in baseline_day if d <= as_of)]
    missing = [day for day in wanted if day not in known]
    if missing:
        # The facts of every date the section shows are loaded once.
        known.update(figures.coverage_gaps_on_dates(missing))
    coverage, before = known[as_of], known[previous_end]
    trend = []
    if detail:
        trend = [
            TrendPoint(q.label, c.spof_staff_count, c.spof_system_count, c.uncovered_count)
            for q, c in zip(quarters, (known[day] for day in ends), strict=True)
        ]
    pipeline = [(status.label, n) for status, n in figures.pipeline_on(as_of).items()]
    # The people covering most systems alone first.
    sole = sorted(coverage.sole_responsible, key=lambda pair: (-len(pair[1]), pair[0].name))
    spof_before = {s.id for s in before.spof_systems}
    uncovered_before = {s.id for s in before.uncovered_systems}
    return CoverageSection(
        spof_staff=coverage.spof_staff_count,
        spof_systems=coverage.spof_system_count,
        uncovered=coverage.uncovered_count,
        sole_responsible=[
            (person.name, tuple(s.name for s in systems)) for person, systems in sole[:LIST_CAP]
        ],
        uncovered_systems=_most_critical(coverage.uncovered_systems, as_of),
        trend=trend,
        pipeline=pipeline,
        positions_filled=figures.positions_filled(as_of),
        positions_active_hiring=figures.positions_in_active_hiring(as_of),
        positions_final_stages=figures.positions_in_final_stages(as_of),
        positions_goal=figures.spof_positions_goal(),
        previous_spof_staff=before.spof_staff_count,
        previous_positions_filled=figures.positions_filled(previous_end),
        became_spof=[s.name for s in coverage.spof_systems if s.id not in spof_before],
        became_uncovered=[
            s.name for s in coverage.uncovered_systems if s.id not in uncovered_before
        ],
        target=coverage_target(kr, quarter, as_of, known) if kr is not None else None,
    )
