"""Register metrics: figures the register computes per fiscal quarter, picked by name.

A key result linked to a metric (``KeyResult.metric``) shows the register's value for
each quarter beside the status the manager wrote, and gets a proposed status text.

Each figure has one home in its area (``app.coverage.figures``,
``app.countermeasures.figures``, ``app.threats.figures``); this module only names them
(``RegisterFigures``), decides the date a quarter is measured on, and words the result.
A test gives its own figures explicitly (``app.config["REGISTER_FIGURES"]``).

A quarter is measured on its last day once it has ended, on today while it runs, and
not at all before it starts (``value`` is None, the page shows "-").
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar, cast

from flask import current_app

from app import fiscal
from app.domain.coverage import percent_of_goal
from app.domain.okrs import format_number
from app.domain.quarters import Quarter

__all__ = [
    "METRICS",
    "Metric",
    "RegisterFigures",
    "get_metric",
    "measured_on",
    "metric_choices",
    "one_reading_per_figure",
]

R = TypeVar("R")


class Treated(Protocol):
    @property
    def treated(self) -> bool: ...


@dataclass(frozen=True)
class RegisterFigures:
    """The register's figures the metrics read, each from its area's one home."""

    spof_staff_count: Callable[[date], int]
    uncovered_systems_count: Callable[[date], int]
    positions_filled: Callable[[date], int]
    positions_in_active_hiring: Callable[[date], int]
    positions_in_final_stages: Callable[[date], int]
    spof_positions_goal: Callable[[], int]
    countermeasures_deployed: Callable[[Quarter], int]
    countermeasures_deployed_to_date: Callable[[Quarter], int]
    top_threats_treated: Callable[[Quarter, int], Sequence[Treated]]
    quarter_target: Callable[[], int]
    open_critical_risks: Callable[[date], int]
    overdue_reviews: Callable[[date], int]


@functools.cache
def live_figures() -> RegisterFigures:
    """The register's own figures."""
    # Imported here, not at the top: each area's package loads its pages, and the OKR
    # pages load this module.
    from app.countermeasures import figures as countermeasure_figures
    from app.coverage import figures as coverage_figures
    from app.threats import figures as threat_figures

    return RegisterFigures(
        spof_staff_count=coverage_figures.spof_staff_count,
        uncovered_systems_count=coverage_figures.uncovered_systems_count,
        positions_filled=coverage_figures.positions_filled,
        positions_in_active_hiring=coverage_figures.positions_in_active_hiring,
        positions_in_final_stages=coverage_figures.positions_in_final_stages,
        spof_positions_goal=coverage_figures.spof_positions_goal,
        countermeasures_deployed=countermeasure_figures.countermeasures_deployed,
        countermeasures_deployed_to_date=countermeasure_figures.countermeasures_deployed_to_date,
        top_threats_treated=countermeasure_figures.top_threats_treated,
        quarter_target=countermeasure_figures.quarter_target,
        open_critical_risks=threat_figures.open_critical_risks,
        overdue_reviews=threat_figures.overdue_reviews,
    )


def register_figures() -> RegisterFigures:
    """The live register's figures, or those a test gave the app (``REGISTER_FIGURES``)."""
    given = current_app.config.get("REGISTER_FIGURES")
    return given if isinstance(given, RegisterFigures) else live_figures()


# Readings remembered within one page or one PDF (``one_reading_per_figure``).
_readings: ContextVar[dict[tuple[object, ...], object] | None] = ContextVar(
    "metric_readings", default=None
)


@contextlib.contextmanager
def one_reading_per_figure() -> Iterator[None]:
    """Within the block, each figure is computed once per arguments (one page, one PDF)."""
    token = _readings.set({})
    try:
        yield
    finally:
        _readings.reset(token)


def _read(figure: Callable[..., R], *args: object) -> R:
    readings = _readings.get()
    key = (figure, args)
    if readings is not None and key in readings:
        return cast(R, readings[key])  # stored below, by this same figure
    result = figure(*args)
    if readings is not None:
        readings[key] = result
    return result


def measured_on(quarter: Quarter) -> date | None:
    """The day a quarter's point-in-time figures are taken: its end, today, or None."""
    today = fiscal.today()
    if today < quarter.first_day:
        return None
    return min(quarter.last_day, today)


def _plural(count: float, singular: str, plural: str) -> str:
    return f"{format_number(count)} {singular if count == 1 else plural}"


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: str
    kind: str  # "count" or "percent"
    fn: Callable[[Quarter], float]
    per_quarter: str
    # A proposed status text for a quarter's value (the manager may accept or edit it).
    describe: Callable[[float, Quarter, Any], str]
    # The value as the page shows it beside the written status: "8 solely responsible staff".
    show: Callable[[float, Any], str]
    # The figure as of a date, for the point-in-time metrics (None for per-quarter counts).
    at: Callable[[date], float] | None = None
    # Other metrics shown with this one ("1 of 4 positions filled · 7 solely responsible").
    related: tuple[str, ...] = ()

    def value(self, quarter: Quarter) -> float | None:
        """The quarter's value, or None for a quarter that has not started."""
        if measured_on(quarter) is None:
            return None
        return self.fn(quarter)

    def value_on(self, day: date) -> float | None:
        """A point-in-time metric's value on a date (the baseline at a fiscal year's start)."""
        if self.at is None or day > fiscal.today():
            return None
        return self.at(day)


PointFigure = Callable[[RegisterFigures], Callable[[date], int]]


def _point(
    figure: PointFigure,
) -> tuple[Callable[[Quarter], float], Callable[[date], float]]:
    def at(day: date) -> float:
        return _read(figure(register_figures()), day)

    def fn(quarter: Quarter) -> float:
        day = measured_on(quarter)
        return at(day if day is not None else quarter.last_day)

    return fn, at


def _per_quarter(
    figure: Callable[[RegisterFigures], Callable[[Quarter], int]],
) -> Callable[[Quarter], float]:
    def fn(quarter: Quarter) -> float:
        return _read(figure(register_figures()), quarter)

    return fn


def _positions_goal(kr: Any) -> int:
    goal = getattr(kr, "goal_value", None)
    if goal:
        return int(goal)
    return int(_read(register_figures().spof_positions_goal))


def _describe_positions_filled(value: float, quarter: Quarter, kr: Any) -> str:
    """ "25% filled, 4 SPOF positions in active hiring": the share of the goal filled, then
    the furthest-along stage of the pipeline that holds positions (final stages first)."""
    day = measured_on(quarter) or quarter.last_day
    figures = register_figures()
    parts = [f"{percent_of_goal(int(value), _positions_goal(kr))}% filled"]
    final = _read(figures.positions_in_final_stages, day)
    hiring = _read(figures.positions_in_active_hiring, day)
    if final:
        parts.append(_plural(final, "hiring process", "hiring processes") + " in final stages")
    elif hiring:
        parts.append(_plural(hiring, "SPOF position", "SPOF positions") + " in active hiring")
    return ", ".join(parts)


def _top_threats_treated(quarter: Quarter) -> float:
    figures = register_figures()
    n = int(_read(figures.quarter_target))
    items = _read(figures.top_threats_treated, quarter, n)
    return sum(1 for item in items if item.treated)


def _describe_top_threats(value: float, quarter: Quarter, kr: Any) -> str:
    n = int(_read(register_figures().quarter_target))
    return f"{format_number(value)} of the top {n} threats treated in {quarter.label}"


def _build() -> dict[str, Metric]:
    spof_fn, spof_at = _point(lambda f: f.spof_staff_count)
    uncovered_fn, uncovered_at = _point(lambda f: f.uncovered_systems_count)
    filled_fn, filled_at = _point(lambda f: f.positions_filled)
    hiring_fn, hiring_at = _point(lambda f: f.positions_in_active_hiring)
    critical_fn, critical_at = _point(lambda f: f.open_critical_risks)
    overdue_fn, overdue_at = _point(lambda f: f.overdue_reviews)
    metrics = [
        Metric(
            name="spof_staff",
            label="SPOF staff (solely responsible for a production system)",
            unit="staff",
            kind="count",
            fn=spof_fn,
            at=spof_at,
            per_quarter="Staff members solely responsible for a production system "
            "on the quarter's last day.",
            describe=lambda v, q, kr: _plural(
                v, "staff member solely responsible", "staff members solely responsible"
            )
            + " for a system in production",
            show=lambda v, kr: _plural(
                v, "solely responsible staff member", "solely responsible staff"
            ),
        ),
        Metric(
            name="uncovered_systems",
            label="Uncovered production systems",
            unit="systems",
            kind="count",
            fn=uncovered_fn,
            at=uncovered_at,
            per_quarter="Production systems with nobody responsible on the quarter's last day.",
            describe=lambda v, q, kr: _plural(v, "production system", "production systems")
            + " with nobody responsible",
            show=lambda v, kr: _plural(v, "uncovered system", "uncovered systems"),
        ),
        Metric(
            name="spof_positions_filled",
            label="SPOF positions filled",
            unit="positions",
            kind="count",
            fn=filled_fn,
            at=filled_at,
            per_quarter="Positions opened to remove SPOFs that are filled on the quarter's "
            "last day (and the share of the goal).",
            describe=_describe_positions_filled,
            show=lambda v, kr: f"{format_number(v)} of {_positions_goal(kr)} positions filled",
            related=("spof_staff",),
        ),
        Metric(
            name="spof_positions_active_hiring",
            label="SPOF positions in active hiring",
            unit="positions",
            kind="count",
            fn=hiring_fn,
            at=hiring_at,
            per_quarter="Positions in active hiring on the quarter's last day.",
            describe=lambda v, q, kr: _plural(v, "SPOF position", "SPOF positions")
            + " in active hiring",
            show=lambda v, kr: _plural(v, "position", "positions") + " in active hiring",
        ),
        Metric(
            name="countermeasures_deployed",
            label="Countermeasures deployed in the quarter",
            unit="countermeasures",
            kind="count",
            fn=_per_quarter(lambda f: f.countermeasures_deployed),
            per_quarter="Countermeasures whose deployment date falls in the quarter.",
            describe=lambda v, q, kr: _plural(v, "countermeasure", "countermeasures")
            + f" deployed in {q.label}",
            show=lambda v, kr: _plural(v, "countermeasure", "countermeasures")
            + " deployed in the quarter",
        ),
        Metric(
            name="countermeasures_deployed_to_date",
            label="Countermeasures deployed in the fiscal year to date",
            unit="countermeasures",
            kind="count",
            fn=_per_quarter(lambda f: f.countermeasures_deployed_to_date),
            per_quarter="Countermeasures deployed from the fiscal year's start to the "
            "quarter's end.",
            describe=lambda v, q, kr: _plural(v, "countermeasure", "countermeasures") + " deployed",
            show=lambda v, kr: _plural(v, "countermeasure", "countermeasures")
            + " deployed to date",
        ),
        Metric(
            name="top_threats_treated",
            label="Top threats treated in the quarter",
            unit="threats",
            kind="count",
            fn=_top_threats_treated,
            per_quarter="Of the top N threats at the quarter's start (N: the per-quarter "
            "countermeasure target), those treated by a countermeasure deployed in the quarter.",
            describe=_describe_top_threats,
            show=lambda v, kr: _plural(v, "top threat", "top threats") + " treated",
        ),
        Metric(
            name="open_critical_risks",
            label="Open critical risks",
            unit="risks",
            kind="count",
            fn=critical_fn,
            at=critical_at,
            per_quarter="Open threats at the critical level on the quarter's last day.",
            describe=lambda v, q, kr: _plural(v, "open critical risk", "open critical risks"),
            show=lambda v, kr: _plural(v, "open critical risk", "open critical risks"),
        ),
        Metric(
            name="overdue_reviews",
            label="Overdue threat reviews",
            unit="reviews",
            kind="count",
            fn=overdue_fn,
            at=overdue_at,
            per_quarter="Threats whose review date had passed on the quarter's last day.",
            describe=lambda v, q, kr: _plural(v, "threat review", "threat reviews") + " overdue",
            show=lambda v, kr: _plural(v, "review", "reviews") + " overdue",
        ),
    ]
    return {metric.name: metric for metric in metrics}


METRICS: dict[str, Metric] = _build()


# Catalogue figures are measured per library: the metric's name carries the library's id
# ("controls_implemented:3"), so a key result names the framework it reports against.
CATALOGUE_METRICS = {
    "attack_exposed": "attack",
    "attack_tactics_uncovered": "attack",
    "controls_implemented": "framework",
}


def _catalogue_figure(name: str) -> Callable[[int, date], int]:
    # Imported here: the catalogue area's package loads its pages, which load this module.
    from app.catalogues import figures as catalogue_figures

    return {
        "attack_exposed": catalogue_figures.exposed_techniques,
        "attack_tactics_uncovered": catalogue_figures.tactics_uncovered,
        "controls_implemented": catalogue_figures.controls_implemented_percent,
    }[name]


def _catalogue_metric(name: str, library_id: int, library_name: str) -> Metric:
    figure = _catalogue_figure(name)

    def at(day: date) -> float:
        return _read(figure, library_id, day)

    def fn(quarter: Quarter) -> float:
        day = measured_on(quarter)
        return at(day if day is not None else quarter.last_day)

    key = f"{name}:{library_id}"
    if name == "attack_exposed":
        return Metric(
            name=key,
            label=f"{library_name}: threatened techniques with no deployed countermeasure",
            unit="techniques",
            kind="count",
            fn=fn,
            at=at,
            per_quarter="ATT&CK techniques with an open threat mapped to them and no deployed "
            "countermeasure mitigating them, on the quarter's last day.",
            describe=lambda v, q, kr: _plural(v, "threatened technique", "threatened techniques")
            + " with no deployed countermeasure",
            show=lambda v, kr: _plural(v, "exposed technique", "exposed techniques"),
        )
    if name == "attack_tactics_uncovered":
        return Metric(
            name=key,
            label=f"{library_name}: tactics with no deployed countermeasure",
            unit="tactics",
            kind="count",
            fn=fn,
            at=at,
            per_quarter="ATT&CK tactics none of whose techniques a deployed countermeasure "
            "mitigates, on the quarter's last day.",
            describe=lambda v, q, kr: _plural(v, "tactic", "tactics")
            + " with no deployed countermeasure",
            show=lambda v, kr: _plural(v, "tactic", "tactics") + " uncovered",
        )
    return Metric(
        name=key,
        label=f"{library_name}: controls implemented (%)",
        unit="%",
        kind="percent",
        fn=fn,
        at=at,
        per_quarter="The share of the framework's controls implemented by a countermeasure "
        "deployed on the quarter's last day.",
        describe=lambda v, q, kr: f"{format_number(v)}% of {library_name} controls implemented",
        show=lambda v, kr: f"{format_number(v)}% of controls implemented",
    )


def _catalogue_libraries() -> list[tuple[int, str, str]]:
    """(id, name, kind value) of every imported library (none without the area)."""
    from app.catalogues.figures import libraries

    return [(lib.id, lib.name, lib.kind.value) for lib in libraries()]


def get_metric(name: str | None) -> Metric | None:
    if not name:
        return None
    if name in METRICS:
        return METRICS[name]
    base, _, raw_id = name.partition(":")
    if base not in CATALOGUE_METRICS or not raw_id.isdigit():
        return None
    for library_id, library_name, kind in _catalogue_libraries():
        if library_id == int(raw_id) and kind == CATALOGUE_METRICS[base]:
            return _catalogue_metric(base, library_id, library_name)
    return None


def metric_choices() -> list[tuple[str, str]]:
    choices = [(name, metric.label) for name, metric in METRICS.items()]
    for library_id, library_name, kind in _catalogue_libraries():
        for base, library_kind in CATALOGUE_METRICS.items():
            if kind == library_kind:
                metric = _catalogue_metric(base, library_id, library_name)
                choices.append((metric.name, metric.label))
    return choices
