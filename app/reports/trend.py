"""Figures over time: one row per quarter end, from the functions the report and the
dashboard use (residual levels, SPOF staff, uncovered systems, countermeasures deployed).
Nothing here counts anything itself; it lines the quarter ends up and draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from app.domain.quarters import Quarter, quarters_of_fiscal_year


@dataclass
class TrendRow:
    quarter: Quarter
    levels: dict[str, int]  # level label -> open threats at that residual level
    spof_staff: int
    uncovered: int
    deployed: int


@dataclass
class Series:
    label: str
    values: list[int]
    css: str  # colour class of the line (frontline.css .trend-*)


@dataclass
class Chart:
    """An SVG line chart's geometry, worked out here so the template only draws."""

    title: str
    y_label: str
    x_labels: list[str]
    series: list[Series]
    width: int = 640
    height: int = 260
    left: int = 48
    right: int = 16
    top: int = 16
    bottom: int = 56
    y_max: int = field(init=False)
    y_ticks: list[int] = field(init=False)

    def __post_init__(self) -> None:
        highest = max([v for s in self.series for v in s.values] or [0])
        step = max(1, -(-highest // 4))  # four steps, whole numbers
        self.y_max = step * 4
        self.y_ticks = [step * i for i in range(5)]

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    def x(self, index: int) -> float:
        if len(self.x_labels) == 1:
            return self.left + self.plot_width / 2
        return self.left + index * self.plot_width / (len(self.x_labels) - 1)

    def y(self, value: float) -> float:
        return self.top + self.plot_height - value * self.plot_height / self.y_max

    def points(self, series: Series) -> str:
        return " ".join(f"{self.x(i):.1f},{self.y(v):.1f}" for i, v in enumerate(series.values))


def quarter_ends(fiscal_years: list[int], start_month: int, today: date) -> list[Quarter]:
    """The quarters of these fiscal years that have ended by ``today``."""
    return [
        q
        for fy in fiscal_years
        for q in quarters_of_fiscal_year(fy, start_month)
        if q.last_day <= today
    ]


def trend_rows(fiscal_years: list[int], start_month: int, today: date) -> list[TrendRow]:
    from app.countermeasures.figures import countermeasures_deployed
    from app.coverage.figures import coverage_trend_for_fiscal_year
    from app.threats.figures import level_counts

    ended = quarter_ends(fiscal_years, start_month, today)
    coverage = {
        q: (staff, uncovered)
        for fy in fiscal_years
        for q, staff, _systems, uncovered in coverage_trend_for_fiscal_year(fy)
    }
    rows = []
    for q in ended:
        staff, uncovered = coverage[q]
        rows.append(
            TrendRow(
                quarter=q,
                levels={lvl.label: n for lvl, n in level_counts(q.last_day).items()},
                spof_staff=staff,
                uncovered=uncovered,
                deployed=countermeasures_deployed(q),
            )
        )
    return rows


LEVEL_CSS = {"Low": "low", "Medium": "medium", "High": "high", "Critical": "critical"}


def charts(rows: list[TrendRow]) -> list[Chart]:
    labels = [r.quarter.label for r in rows]
    level_names = list(rows[0].levels) if rows else []
    return [
        Chart(
            title="Open threats by residual level",
            y_label="Open threats",
            x_labels=labels,
            series=[
                Series(name, [r.levels[name] for r in rows], LEVEL_CSS.get(name, "other"))
                for name in level_names
            ],
        ),
        Chart(
            title="Single points of failure",
            y_label="Count",
            x_labels=labels,
            series=[
                Series("Staff solely responsible", [r.spof_staff for r in rows], "spof"),
                Series("Uncovered systems", [r.uncovered for r in rows], "uncovered"),
            ],
        ),
        Chart(
            title="Countermeasures deployed in the quarter",
            y_label="Deployed",
            x_labels=labels,
            series=[Series("Deployed", [r.deployed for r in rows], "deployed")],
        ),
    ]
