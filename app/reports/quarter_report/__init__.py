"""An objective's quarterly report as plain values, gathered from the register.

``gather_quarter_report`` asks each area's figure functions (the same ones the area's
pages, the OKR table and the dashboard use) and returns a ``QuarterReport`` of plain
dataclasses. The PDF builder and the dashboard only lay these values out; neither
computes a figure of its own.

An objective's report holds the register areas its key results are linked to (through
each key result's metric, ``METRIC_AREAS``) and nothing else. Long lists are capped
(``LIST_CAP`` rows, ordered by impact, and "and N more") so the report stays readable at
any size of register; the full register is an appendix (``app.reports.appendix``).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from datetime import date

from sqlalchemy import select

from app import figure_cache
from app.domain.quarters import Quarter, quarters_of_fiscal_year
from app.extensions import db
from app.models.okrs import Objective, ObjectiveNarrative
from app.reports.quarter_report.catalogues import gather_catalogues
from app.reports.quarter_report.countermeasures import gather_countermeasures
from app.reports.quarter_report.coverage import gather_coverage
from app.reports.quarter_report.key_results import _status_authors, gather_key_results
from app.reports.quarter_report.risk import gather_risk
from app.reports.quarter_report.sections import (
    CATALOGUES,
    COUNTERMEASURES,
    COVERAGE,
    HIRING,
    METRIC_AREAS,
    RISK,
    areas_of,
)
from app.reports.quarter_report.values import QuarterReport

# ---------------------------------------------------------------- gathering


def report_as_of(quarter: Quarter, today: date) -> date:
    """The date the figures are taken on: the quarter end, or today inside the quarter."""
    return min(quarter.last_day, today)


def gather_quarter_report(
    objective: Objective | None,
    quarter: Quarter,
    today: date,
    detail: bool = True,
    areas: frozenset[str] | None = None,
) -> QuarterReport:
    """The report of ``objective`` for ``quarter``; ``detail=False`` keeps only the
    headline figures (the dashboard), computed by the very same functions. ``areas``: the
    register areas to gather (default: those the objective's key results are linked to;
    every area without an objective)."""
    with figure_cache.pinned(), _without_cycle_collection():
        return _gather(objective, quarter, today, detail, areas)


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Gathering builds tens of thousands of short-lived fact tuples at size, freed by
    reference counting; left on, the cycle collector walks the whole heap (some 300,000
    objects after start-up) while they are built: a quarter of the gathering time at
    100,000 threats, for nothing to collect. Collection resumes on leaving."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _gather(
    objective: Objective | None,
    quarter: Quarter,
    today: date,
    detail: bool,
    areas: frozenset[str] | None,
) -> QuarterReport:
    as_of = report_as_of(quarter, today)
    narrative = None
    if objective is not None:
        narrative = db.session.scalar(
            select(ObjectiveNarrative.text).where(
                ObjectiveNarrative.objective_id == objective.id,
                ObjectiveNarrative.quarter_start == quarter.first_day,
            )
        )
    if areas is None:
        areas = areas_of(objective)
    coverage = _coverage_for_every_date(objective, quarter, as_of, areas)
    key_results = gather_key_results(objective, quarter) if objective else []
    report = QuarterReport(
        objective_id=objective.id if objective else 0,
        objective_title=objective.title if objective else "",
        statement=(objective.statement or "") if objective else "",
        narrative=narrative or "",
        department=(objective.department or "") if objective else "",
        quarter=quarter,
        as_of=as_of,
        in_progress=as_of < quarter.last_day,
        key_results=key_results,
        areas=areas,
        prepared_by=_status_authors(objective, quarter) if objective else (),
    )
    if RISK in areas:
        report.risk = gather_risk(quarter, as_of, detail)
    if COUNTERMEASURES in areas:
        report.countermeasures = gather_countermeasures(quarter, detail, objective, as_of)
    if COVERAGE in areas or HIRING in areas:
        report.coverage = gather_coverage(quarter, as_of, detail, coverage, objective)
    if CATALOGUES in areas and objective is not None:
        report.catalogues = gather_catalogues(objective, quarter, as_of)
    return report


def _coverage_for_every_date(
    objective: Objective | None, quarter: Quarter, as_of: date, areas: frozenset[str]
) -> dict:
    """Coverage gaps on every date the report reads (its sections, and the key-result
    table's quarter ends and baseline), from one query; the key-result figures then find
    them remembered."""
    from app.coverage import figures

    linked = objective is not None and any(
        METRIC_AREAS.get(kr.metric or "", frozenset()) & {COVERAGE, HIRING}
        for kr in objective.key_results
    )
    if not (linked or areas & {COVERAGE, HIRING}):
        return {}
    from app.metrics import measured_on

    year = quarters_of_fiscal_year(quarter.fiscal_year, quarter.start_month)
    days = {as_of, quarter.previous().last_day}
    days |= {q.last_day for q in year if q < quarter}
    if linked:
        days |= {day for q in year if q <= quarter and (day := measured_on(q)) is not None}
        if year[0].first_day <= as_of:
            days.add(year[0].first_day)
    return figures.coverage_gaps_on_dates(days)
