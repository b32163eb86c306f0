"""The key-result table of an objective, as the deck lays it out.

``kr_table`` is the one function that builds the table: the OKR pages, the dashboard and
the quarterly PDF all show what it returns, so a figure never differs between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import fiscal
from app.domain.okrs import format_number, progress_percent
from app.domain.quarters import Quarter, quarters_of_fiscal_year
from app.extensions import db
from app.metrics import get_metric, measured_on, one_reading_per_figure
from app.models.okrs import GoalDirection, KeyResult, KeyResultStatus, Objective, Rating

NO_STATUS = "-"

__all__ = [
    "NO_STATUS",
    "KrRow",
    "QuarterCell",
    "kr_row",
    "kr_table",
    "objectives_of_year",
    "fiscal_years_with_objectives",
    "narrative_text",
]


@dataclass
class QuarterCell:
    quarter: Quarter
    status_text: str  # the written status, or "-" when there is none
    rating: Rating | None = None
    value: float | None = None  # the value written with the status
    author: str | None = None
    written_on: date | None = None
    started: bool = True
    measured_on: date | None = None  # the day the register's value is taken
    computed: float | None = None  # the register's value (linked KRs, started quarters)
    computed_text: str | None = None  # "1 of 4 positions filled · 7 solely responsible staff"
    proposed: str | None = None  # a status text proposed from the register's value

    @property
    def has_status(self) -> bool:
        return self.status_text != NO_STATUS

    @property
    def label(self) -> str:
        return f"Q{self.quarter.number}"

    @property
    def measured_so_far(self) -> bool:
        """The quarter is still running: its register value is as of today."""
        return self.measured_on is not None and self.measured_on < self.quarter.last_day


@dataclass
class KrRow:
    id: int
    code: str
    statement: str
    baseline_text: str
    goal_text: str
    metric: str | None
    metric_label: str | None
    quarters: list[QuarterCell] = field(default_factory=list)
    goal_value: float | None = None
    goal_unit: str = ""
    baseline_computed: float | None = None  # the register's value at the fiscal year's start
    baseline_computed_text: str | None = None
    progress: int | None = None  # percent of the way to the numeric goal
    progress_value: float | None = None  # the value the progress is measured on
    baseline_value: float | None = None  # the KR's numeric baseline, if it has one
    decreasing: bool = False  # the goal is to bring the value down to it

    @property
    def key_result_text(self) -> str:
        """The deck's first cell: "KR2: <statement> Baseline: <baseline>"."""
        text = f"{self.code}: {self.statement}" if self.code else self.statement
        if self.baseline_text:
            text = f"{text} Baseline: {self.baseline_text}"
        return text

    @property
    def progress_label(self) -> str:
        if self.progress is None:
            return ""
        # Said as the KR measures it: a percent only where it reads as "value of goal"
        # (counting up from nothing); from a baseline, the baseline is named instead, so
        # "1 of 2 EU data centers" is not followed by a puzzling "(0%)".
        goal = format_number(self.goal_value)
        value = format_number(self.progress_value)
        unit = f" {self.goal_unit}" if self.goal_unit else ""
        if self.decreasing:
            baseline = format_number(self.baseline_value)
            return f"{value}{unit}, down from {baseline} towards {goal}"
        if self.baseline_value:
            return (
                f"{value} of {goal}{unit}, from a baseline of {format_number(self.baseline_value)}"
            )
        return f"{value} of {goal}{unit} ({self.progress}%)"


def _computed_text(metric, value: float, kr: KeyResult, related_value) -> str:
    parts = [metric.show(value, kr)]
    for name in metric.related:
        related = get_metric(name)
        related_value_now = related_value(related) if related is not None else None
        if related is not None and related_value_now is not None:
            parts.append(related.show(related_value_now, kr))
    return " · ".join(parts)


def _row(kr: KeyResult, quarters: list[Quarter], through: Quarter | None = None) -> KrRow:
    metric = get_metric(kr.metric)
    statuses = {status.quarter_start: status for status in kr.statuses}
    row = KrRow(
        id=kr.id,
        code=kr.code,
        statement=kr.statement,
        baseline_text=kr.baseline_text,
        goal_text=kr.goal_text,
        metric=kr.metric,
        metric_label=metric.label if metric else None,
        goal_value=kr.goal_value,
        goal_unit=kr.goal_unit,
    )
    today = fiscal.today()
    latest_written: float | None = None
    latest_computed: float | None = None
    for quarter in quarters:
        status = statuses.get(quarter.first_day)
        cell = QuarterCell(quarter=quarter, status_text=NO_STATUS)
        cell.started = quarter.first_day <= today
        if status is not None and (status.text.strip() or status.value is not None):
            cell.status_text = status.text.strip() or format_number(status.value)
            cell.rating = status.rating
            cell.value = status.value
            cell.author = status.author.name if status.author else None
            cell.written_on = status.written_on
            if status.value is not None:
                latest_written = status.value
        if metric is not None and cell.started and (through is None or quarter <= through):
            cell.measured_on = measured_on(quarter)
            cell.computed = metric.value(quarter)
            if cell.computed is not None:
                cell.computed_text = _computed_text(
                    metric, cell.computed, kr, lambda m, q=quarter: m.value(q)
                )
                cell.proposed = metric.describe(cell.computed, quarter, kr)
                latest_computed = cell.computed
        row.quarters.append(cell)
    if metric is not None and metric.at is not None and quarters:
        start = quarters[0].first_day
        row.baseline_computed = metric.value_on(start)
        if row.baseline_computed is not None:
            row.baseline_computed_text = _computed_text(
                metric, row.baseline_computed, kr, lambda m: m.value_on(start)
            )
    row.progress_value = latest_computed if latest_computed is not None else latest_written
    row.baseline_value = kr.baseline_value
    row.decreasing = kr.goal_direction == GoalDirection.DECREASE
    row.progress = progress_percent(
        row.progress_value,
        kr.goal_value,
        kr.baseline_value,
        decreasing=kr.goal_direction == GoalDirection.DECREASE,
    )
    return row


def kr_table(
    objective: Objective, fiscal_year: int | None = None, through: Quarter | None = None
) -> list[KrRow]:
    """One row per key result: the deck's columns, the register's values, proposals.

    ``through``: measure the register for quarters up to this one only (a quarter's report
    shows the later ones as still to come)."""
    year = objective.fiscal_year if fiscal_year is None else fiscal_year
    quarters = quarters_of_fiscal_year(year, fiscal.start_month())
    with one_reading_per_figure():
        return [_row(kr, quarters, through) for kr in objective.key_results]


def kr_row(key_result: KeyResult, fiscal_year: int | None = None) -> KrRow:
    """One key result's row, as ``kr_table`` builds it (the KR page)."""
    year = key_result.objective.fiscal_year if fiscal_year is None else fiscal_year
    with one_reading_per_figure():
        return _row(key_result, quarters_of_fiscal_year(year, fiscal.start_month()))


def objectives_of_year(fiscal_year: int) -> list[Objective]:
    """The objectives of a fiscal year with their key results, statuses and narratives."""
    query = (
        select(Objective)
        .where(Objective.fiscal_year == fiscal_year)
        .order_by(Objective.position, Objective.id)
        .options(
            selectinload(Objective.narratives),
            selectinload(Objective.key_results)
            .selectinload(KeyResult.statuses)
            .selectinload(KeyResultStatus.author),
        )
    )
    return list(db.session.scalars(query))


def fiscal_years_with_objectives() -> list[int]:
    query = select(Objective.fiscal_year).distinct().order_by(Objective.fiscal_year)
    return list(db.session.scalars(query))


def narrative_text(objective: Objective, quarter: Quarter) -> str:
    for narrative in objective.narratives:
        if narrative.quarter_start == quarter.first_day:
            return narrative.text
    return ""


def kr_codes_for_metrics(metrics: tuple[str, ...], fiscal_year: int) -> dict[str, list[str]]:
    """The codes of the fiscal year's key results measured by each of ``metrics`` ("KR2"),
    so a page labels a figure by the KR that uses it instead of a number written into the
    template. One query for all the metrics a page labels."""
    from app.models.okrs import KeyResult, Objective

    rows = db.session.execute(
        select(KeyResult.metric, KeyResult.code)
        .join(Objective, KeyResult.objective_id == Objective.id)
        .where(Objective.fiscal_year == fiscal_year, KeyResult.metric.in_(metrics))
        .order_by(KeyResult.code)
    )
    codes: dict[str, list[str]] = {metric: [] for metric in metrics}
    for metric, code in rows:
        if code:
            codes[metric].append(code)
    return codes
