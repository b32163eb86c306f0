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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import figure_cache
from app.domain.quarters import Quarter, quarters_of_fiscal_year
from app.domain.scoring import Level, RiskMatrix, level_for
from app.domain.targets import quarter_target as _kr_quarter_target
from app.extensions import db
from app.models.okrs import KeyResult, KeyResultStatus, Objective, ObjectiveNarrative, Rating

TOP_THREATS = 10
LIST_CAP = 15

RISK = "risk"
COUNTERMEASURES = "countermeasures"
COVERAGE = "coverage"
HIRING = "hiring"
ALL_AREAS = frozenset({RISK, COUNTERMEASURES, COVERAGE, HIRING})
# Catalogue coverage (ATT&CK, control frameworks) is shown only for the libraries a key
# result links (its metric names the library), never in a report without an objective.
CATALOGUES = "catalogues"

# The register areas a key result's metric draws on. Countermeasures treat the top
# threats, so a countermeasure key result brings the risk section with it; SPOF positions
# are opened to remove SPOFs, so a hiring key result brings the coverage section.
METRIC_AREAS: dict[str, frozenset[str]] = {
    "spof_staff": frozenset({COVERAGE}),
    "uncovered_systems": frozenset({COVERAGE}),
    "spof_positions_filled": frozenset({HIRING, COVERAGE}),
    "spof_positions_active_hiring": frozenset({HIRING, COVERAGE}),
    "countermeasures_deployed": frozenset({COUNTERMEASURES, RISK}),
    "countermeasures_deployed_to_date": frozenset({COUNTERMEASURES, RISK}),
    "top_threats_treated": frozenset({COUNTERMEASURES, RISK}),
    "open_critical_risks": frozenset({RISK}),
    "overdue_reviews": frozenset({RISK}),
}
COUNTERMEASURE_METRICS = ("countermeasures_deployed_to_date", "countermeasures_deployed")


def metric_areas(metric: str | None) -> frozenset[str]:
    """The register areas a key result's metric draws on."""
    name = metric or ""
    if name.partition(":")[0] in CATALOGUE_METRIC_NAMES:
        return frozenset({CATALOGUES})
    return METRIC_AREAS.get(name, frozenset())


CATALOGUE_METRIC_NAMES = ("attack_exposed", "attack_tactics_uncovered", "controls_implemented")


def areas_of(objective: Objective | None) -> frozenset[str]:
    """The register areas an objective's key results are linked to (all without one)."""
    if objective is None:
        return ALL_AREAS
    found: set[str] = set()
    for kr in objective.key_results:
        found |= metric_areas(kr.metric)
    return frozenset(found)


def count(n: int | None) -> str:
    """A whole number as the report prints it: thousands separated ("12,345")."""
    return "-" if n is None else f"{n:,}"


# ---------------------------------------------------------------- plain report values


@dataclass(frozen=True)
class KrCell:
    """One quarter's status of a key result: the text as written ("-" when none yet)."""

    text: str = "-"
    rating: Rating | None = None
    # The register's computed value for a linked key result, None otherwise, and its wording.
    value: float | None = None
    value_text: str = ""


@dataclass(frozen=True)
class KrLine:
    code: str
    title: str  # the deck's first cell: "KR2: <statement> Baseline: <baseline>"
    goal: str
    cells: tuple[KrCell, ...]  # Q1..Q4 of the fiscal year
    linked: bool = False
    metric_label: str = ""


@dataclass(frozen=True)
class HeatMap:
    kind: str  # "inherent" or "residual"
    counts: dict[tuple[int, int], int]
    matrix: RiskMatrix

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def level(self, likelihood: int, impact: int) -> Level:
        return level_for(likelihood * impact, self.matrix)

    def count(self, likelihood: int, impact: int) -> int:
        return self.counts.get((likelihood, impact), 0)


@dataclass(frozen=True)
class ThreatLine:
    rank: int
    id: int
    title: str
    inherent_score: int
    residual_score: int
    level: Level
    treatment: str
    # Residual score and rank at the previous quarter end (None: not in the register, or
    # not in the top then).
    previous_residual: int | None = None
    previous_rank: int | None = None

    @property
    def rank_change(self) -> str:
        """ "#3 → #1", or "new → #4" for a threat that was not in the top then."""
        then = f"#{self.previous_rank}" if self.previous_rank is not None else "not in top"
        return f"{then} → #{self.rank}"

    @property
    def residual_change(self) -> str:
        """ "16 → 12", or "new → 12" for a threat not scored at the previous quarter end."""
        then = str(self.previous_residual) if self.previous_residual is not None else "new"
        return f"{then} → {self.residual_score}"


@dataclass(frozen=True)
class ReviewLine:
    id: int
    title: str
    due_on: date | None
    owner: str
    residual_score: int | None = None


@dataclass
class RiskSection:
    inherent: HeatMap
    residual: HeatMap
    top_threats: list[ThreatLine]
    open_critical: int
    overdue_count: int
    overdue: list[ReviewLine] = field(default_factory=list)
    level_counts: dict[Level, int] = field(default_factory=dict)
    previous_open_critical: int | None = None
    entered_top: list[str] = field(default_factory=list)
    left_top: list[str] = field(default_factory=list)

    @property
    def overdue_more(self) -> int:
        return max(0, self.overdue_count - len(self.overdue))


@dataclass(frozen=True)
class CountermeasureLine:
    id: int
    title: str
    deployed_on: date | None
    top_threats: tuple[str, ...] = ()  # the quarter's top threats it treats
    reduction: int | None = None  # residual-score reduction it brought
    target_quarter: str = ""


@dataclass(frozen=True)
class ScoreStep:
    """One recorded change of a threat's residual score inside the quarter."""

    on: date
    before: int | None
    after: int
    countermeasure: str = ""  # the deployment it is credited to, if any
    note: str = ""

    @property
    def change(self) -> int:
        return self.after - (self.before if self.before is not None else self.after)


@dataclass(frozen=True)
class TopThreatTreatment:
    """A top threat at the quarter's start: residual then and at the end, and every
    recorded change between, so that start + the changes = end."""

    title: str
    residual_score: int  # at the quarter's start
    treated_by: tuple[str, ...]
    rank: int = 0
    end_residual: int | None = None
    steps: tuple[ScoreStep, ...] = ()


@dataclass
class CountermeasureSection:
    deployed_in_quarter: int
    deployed_to_date: int
    # The quarter's share of the yearly goal; None before the key result's programme starts.
    quarter_target: int | None
    yearly_goal: int
    deployed: list[CountermeasureLine]
    top_treated: list[TopThreatTreatment]
    slipped: list[CountermeasureLine]
    slipped_count: int
    previous_to_date: int | None = None
    target_source: str = ""  # "KR3" when the target comes from a key result

    @property
    def deployed_more(self) -> int:
        return max(0, self.deployed_in_quarter - len(self.deployed))

    @property
    def slipped_more(self) -> int:
        return max(0, self.slipped_count - len(self.slipped))


@dataclass(frozen=True)
class TrendPoint:
    quarter: str
    spof_staff: int
    spof_systems: int
    uncovered: int


@dataclass(frozen=True)
class TargetPoint:
    """A quarter end on the coverage chart: the key result's target for the staff solely
    responsible, the count measured (quarters reported) or projected (quarters ahead)."""

    quarter: str
    target: int
    measured: int | None = None
    projected: int | None = None


@dataclass(frozen=True)
class CoverageTarget:
    """The coverage key result's path over the fiscal year (``staff_target_path``)."""

    code: str
    baseline: int
    baseline_label: str  # where the baseline stands: "1 July 2020", "end of FY20-21 Q1"
    goal: int  # staff solely responsible at the fiscal year's end
    points: tuple[TargetPoint, ...]


# Key-result metrics whose goal sets the number of staff solely responsible at the year's
# end: a count to reach, or positions to fill (each relieving one person).
COVERAGE_GOAL_METRICS = ("spof_staff", "spof_positions_filled", "spof_positions_active_hiring")


@dataclass
class CoverageSection:
    spof_staff: int
    spof_systems: int
    uncovered: int
    sole_responsible: list[tuple[str, tuple[str, ...]]]
    uncovered_systems: list[tuple[str, str]]  # (name, criticality), most critical first
    trend: list[TrendPoint]
    pipeline: list[tuple[str, int]]
    positions_filled: int
    positions_active_hiring: int
    positions_final_stages: int
    positions_goal: int
    previous_spof_staff: int | None = None
    previous_positions_filled: int | None = None
    became_spof: list[str] = field(default_factory=list)
    became_uncovered: list[str] = field(default_factory=list)
    target: CoverageTarget | None = None

    @property
    def sole_more(self) -> int:
        return max(0, self.spof_staff - len(self.sole_responsible))

    @property
    def uncovered_more(self) -> int:
        return max(0, self.uncovered - len(self.uncovered_systems))


@dataclass(frozen=True)
class Headline:
    """A cover-page number with its value at the previous quarter end."""

    label: str
    value: int
    previous: int | None
    previous_label: str

    @property
    def change(self) -> str:
        if self.previous is None:
            return f"not measured at {self.previous_label}"
        delta = self.value - self.previous
        if delta == 0:
            return f"unchanged since {self.previous_label}"
        return f"{delta:+,} since {self.previous_label} ({count(self.previous)})"


@dataclass(frozen=True)
class TacticLine:
    name: str
    techniques: int
    threatened: int
    mitigated: int


@dataclass(frozen=True)
class ExposedTechnique:
    ref: str
    name: str
    threats: int
    worst_residual: int | None


@dataclass
class CatalogueBlock:
    """One linked library's coverage on the report's date, and at each quarter end."""

    library_id: int
    name: str
    kind: str  # "attack" or "framework"
    # ATT&CK
    threatened: int = 0
    covered: int = 0
    exposed: int = 0
    tactics: list[TacticLine] = field(default_factory=list)
    tactics_uncovered: list[str] = field(default_factory=list)
    exposed_techniques: list[ExposedTechnique] = field(default_factory=list)
    exposed_more: int = 0
    # Control framework
    controls: int = 0
    implemented: int = 0
    percent: int = 0
    groups: list[tuple[str, int, int, int]] = field(default_factory=list)
    # (quarter label, the block's headline figure at its end) for the year to date
    trend: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class CatalogueSection:
    blocks: list[CatalogueBlock] = field(default_factory=list)


@dataclass
class QuarterReport:
    objective_id: int
    objective_title: str
    statement: str
    narrative: str
    quarter: Quarter
    as_of: date
    in_progress: bool = False
    department: str = ""
    key_results: list[KrLine] | None = None
    risk: RiskSection | None = None
    countermeasures: CountermeasureSection | None = None
    coverage: CoverageSection | None = None
    catalogues: CatalogueSection | None = None
    areas: frozenset[str] = ALL_AREAS
    prepared_by: tuple[str, ...] = ()

    @property
    def quarter_labels(self) -> list[str]:
        return [f"Q{q.number}" for q in quarters_of_fiscal_year(self.quarter.fiscal_year)]

    def shows(self, area: str) -> bool:
        return area in self.areas

    def headlines(self) -> list[Headline]:
        """Up to three numbers for the cover, each with its change since last quarter."""
        previous = self.quarter.previous().label
        found: list[Headline] = []
        cov, cm, risk = self.coverage, self.countermeasures, self.risk
        if self.shows(HIRING) and cov is not None:
            found.append(
                Headline(
                    f"SPOF positions filled (goal {count(cov.positions_goal)})",
                    cov.positions_filled,
                    cov.previous_positions_filled,
                    previous,
                )
            )
        if self.shows(COUNTERMEASURES) and cm is not None:
            found.append(
                Headline(
                    f"Countermeasures deployed in {self.quarter.fiscal_year_label} "
                    f"(goal {count(cm.yearly_goal)})",
                    cm.deployed_to_date,
                    cm.previous_to_date,
                    previous,
                )
            )
        if self.shows(COVERAGE) and cov is not None:
            found.append(
                Headline(
                    "Staff solely responsible for a production system",
                    cov.spof_staff,
                    cov.previous_spof_staff,
                    previous,
                )
            )
        if self.shows(RISK) and risk is not None:
            found.append(
                Headline(
                    "Open critical risks", risk.open_critical, risk.previous_open_critical, previous
                )
            )
        return found[:3]

    def changes(self) -> list[str]:
        """What changed since the previous quarter end, in a sentence each."""
        lines: list[str] = []
        risk, cov = self.risk, self.coverage
        if self.shows(RISK) and risk is not None:
            if risk.entered_top:
                listed = f"all in the Top {TOP_THREATS} table"
                lines.append(
                    f"Entered the top {TOP_THREATS}: {_names(risk.entered_top, where=listed)}."
                )
            if risk.left_top:
                lines.append(f"Left the top {TOP_THREATS}: {_names(risk.left_top)}.")
            if risk.previous_open_critical is not None:
                delta = risk.open_critical - risk.previous_open_critical
                if delta > 0:
                    lines.append(f"{_many(delta, 'more open critical risk')} than last quarter.")
                elif delta < 0:
                    lines.append(f"{_many(-delta, 'fewer open critical risk')} than last quarter.")
        if self.shows(COUNTERMEASURES) and self.countermeasures is not None:
            cm = self.countermeasures
            target = (
                f" against a target of {count(cm.quarter_target)}"
                if cm.quarter_target is not None
                else ""
            )
            lines.append(
                f"{_many(cm.deployed_in_quarter, 'countermeasure')} deployed in "
                f"{self.quarter.label}{target}."
            )
        if self.shows(HIRING) and cov is not None and cov.previous_positions_filled is not None:
            filled = cov.positions_filled - cov.previous_positions_filled
            if filled:
                lines.append(f"{_many(filled, 'SPOF position')} filled in {self.quarter.label}.")
        if self.shows(COVERAGE) and cov is not None:
            page = f"the coverage page (/coverage?date={self.as_of.isoformat()}) lists them"
            if cov.became_spof:
                lines.append(
                    f"Became a single point of failure: {_names(cov.became_spof, where=page)}."
                )
            if cov.became_uncovered:
                lines.append(
                    f"Left with nobody responsible: {_names(cov.became_uncovered, where=page)}."
                )
        return lines

    def headline(self) -> dict[str, str | int | None]:
        """The figures a publication freezes, by a label a reader understands."""
        figures: dict[str, str | int | None] = {}
        index = self.quarter.number - 1
        for kr in self.key_results or []:
            cell = kr.cells[index]
            figures[f"{kr.code} {self.quarter.label} status"] = cell.text
            if kr.linked:
                figures[f"{kr.code} register value"] = cell.value_text or None
        if self.risk is not None:
            figures["Threats in the register"] = self.risk.residual.total
            figures["Open critical risks"] = self.risk.open_critical
            figures["Reviews overdue"] = self.risk.overdue_count
            figures["Top threats"] = ", ".join(
                f"{t.title} ({t.residual_score})" for t in self.risk.top_threats[:5]
            )
        if self.countermeasures is not None:
            cm = self.countermeasures
            figures["Countermeasures deployed in the quarter"] = cm.deployed_in_quarter
            figures["Countermeasures deployed to date"] = cm.deployed_to_date
            figures["Countermeasures slipped"] = cm.slipped_count
        if self.coverage is not None:
            cov = self.coverage
            figures["Staff solely responsible (SPOF)"] = cov.spof_staff
            figures["SPOF systems"] = cov.spof_systems
            figures["Uncovered systems"] = cov.uncovered
            figures["SPOF positions filled"] = cov.positions_filled
            figures["SPOF positions in active hiring"] = cov.positions_active_hiring
            figures["SPOF positions in final stages"] = cov.positions_final_stages
        for block in self.catalogues.blocks if self.catalogues else []:
            if block.kind == "attack":
                figures[f"{block.name}: threatened techniques with no countermeasure"] = (
                    block.exposed
                )
            else:
                figures[f"{block.name}: controls implemented"] = f"{block.percent}%"
        return figures


def _many(n: int, singular: str) -> str:
    """ "1 countermeasure", "4 countermeasures" (the noun is the phrase's last word)."""
    return f"{count(n)} {singular}{'' if n == 1 else 's'}"


def _names(names: list[str], cap: int = 5, where: str = "") -> str:
    """The first ``cap`` names and "and N more" (with where the rest are listed)."""
    shown = ", ".join(names[:cap])
    if len(names) <= cap:
        return shown
    return shown + f" and {count(len(names) - cap)} more" + (f" ({where})" if where else "")


def headline_differences(
    published: Mapping[str, object], live: Mapping[str, object]
) -> list[tuple[str, object, object]]:
    """(label, published, live) for every headline figure the register now gives differently."""
    labels = list(published) + [k for k in live if k not in published]
    return [
        (label, published.get(label), live.get(label))
        for label in labels
        if published.get(label) != live.get(label)
    ]


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
    """Coverage on every date the report reads (its sections, and the key-result table's
    quarter ends and baseline), from one load of facts; the key-result figures then find
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
    return figures.coverage_on_dates(days)


def _status_authors(objective: Objective, quarter: Quarter) -> tuple[str, ...]:
    """Who wrote the quarter's key-result statuses (the report's preparers)."""
    names = {
        status.author.name
        for kr in objective.key_results
        for status in kr.statuses
        if status.quarter_start == quarter.first_day and status.author is not None
    }
    return tuple(sorted(names))


def gather_key_results(objective: Objective, quarter: Quarter) -> list[KrLine] | None:
    from app.okrs import figures as okrs

    # Key results, their statuses and authors in three queries, whatever their number.
    db.session.scalars(
        select(Objective)
        .where(Objective.id == objective.id)
        .options(
            selectinload(Objective.key_results)
            .selectinload(KeyResult.statuses)
            .selectinload(KeyResultStatus.author)
        )
    ).all()
    lines = []
    for row in okrs.kr_table(objective, objective.fiscal_year, through=quarter):
        # Quarters after the reported one are "to come" in this report, whatever was
        # written or measured since.
        cells = tuple(
            KrCell(
                text=cell.status_text or "-",
                rating=cell.rating,
                value=cell.computed,
                value_text=cell.computed_text or "",
            )
            if cell.quarter <= quarter
            else KrCell()
            for cell in row.quarters
        )
        lines.append(
            KrLine(
                code=row.code,
                title=row.key_result_text,
                goal=row.goal_text,
                cells=cells,
                linked=bool(row.metric),
                metric_label=row.metric_label or "",
            )
        )
    return lines


def _treatment_labels(ids: Iterable[int], as_of: date) -> dict[int, str]:
    from app.threats.figures import treatments_on

    return {
        tid: (treatment.label if treatment else "Not decided")
        for tid, treatment in treatments_on(ids, as_of).items()
    }


def _previous_scores(ids: list[int], as_of: date) -> dict[int, int]:
    from app.models.threats import Threat
    from app.risk import scores_as_of_query

    if not ids:
        return {}
    query, ranked = scores_as_of_query(as_of)
    query = query.where(Threat.id.in_(ids))
    return {row.id: row.residual_score for row in db.session.execute(query)}


def _overdue_lines(as_of: date) -> list[ReviewLine]:
    """The overdue reviews (review date in force on ``as_of`` passed) with the highest
    residual score on that day first."""
    from app.models.threats import Threat, ThreatStateChange
    from app.models.user import User
    from app.risk import scores_as_of_query, state_in_force_on

    # Read in the ranking index's order (residual, then inherent score) and stop at the cap.
    query, changes = scores_as_of_query(as_of, from_changes=True)
    state = ThreatStateChange.__table__.alias("review_state")
    # The review state is probed per change in ranking order. PostgreSQL plans that from
    # the change's own threat id (by the threat's, it materialises every overdue state:
    # 1 s at 100,000 threats); SQLite from the threat's (by the change's, it drives the
    # query from the overdue states instead: 0.4 s).
    postgres = db.session.get_bind().dialect.name == "postgresql"
    on = changes.c.threat_id if postgres else Threat.id
    query = (
        query.with_only_columns(
            Threat.id, Threat.title, state.c.next_review_on, User.name, changes.c.residual_score
        )
        .join(state, state.c.threat_id == on)
        .outerjoin(User, User.id == Threat.owner_id)
        .where(*state_in_force_on(as_of, state), state.c.next_review_on < as_of)
        .order_by(
            changes.c.residual_score.desc(),
            changes.c.inherent_score.desc(),
            state.c.next_review_on,
            Threat.id,
        )
        .limit(LIST_CAP)
    )
    return [
        ReviewLine(tid, title, review_on, owner or "No owner", residual)
        for tid, title, review_on, owner, residual in db.session.execute(query)
    ]


def gather_risk(quarter: Quarter, as_of: date, detail: bool = True) -> RiskSection | None:
    from app.risk import risk_matrix, top_threats_as_of
    from app.threats import figures as threats

    matrix = risk_matrix()
    previous_end = quarter.previous().last_day
    # Both heat maps and the level counts from one pass over the register.
    threats.both_cells_on(as_of)
    levels = dict(threats.level_counts(as_of))
    section = RiskSection(
        inherent=HeatMap("inherent", threats.heatmap_as_of(as_of, "inherent"), matrix),
        residual=HeatMap("residual", threats.heatmap_as_of(as_of, "residual"), matrix),
        top_threats=[],
        # The same count open_critical_risks gives, read from the cells just counted.
        open_critical=levels.get(Level.CRITICAL, 0),
        overdue_count=threats.overdue_reviews(as_of),
        level_counts=levels,
    )
    if not detail:
        return section
    section.previous_open_critical = threats.open_critical_risks(previous_end)
    top = top_threats_as_of(as_of, TOP_THREATS)
    before = top_threats_as_of(previous_end, TOP_THREATS)
    ids = [t.id for t in top]
    previous = _previous_scores(ids, previous_end)
    previous_rank = {t.id: i for i, t in enumerate(before, 1)}
    treatments = _treatment_labels(ids, as_of)
    section.top_threats = [
        ThreatLine(
            rank=rank,
            id=t.id,
            title=t.title,
            inherent_score=t.inherent_score,
            residual_score=t.residual_score,
            level=level_for(t.residual_score, matrix),
            treatment=treatments.get(t.id, ""),
            previous_residual=previous.get(t.id),
            previous_rank=previous_rank.get(t.id),
        )
        for rank, t in enumerate(top, 1)
    ]
    now_ids = set(ids)
    section.entered_top = [t.title for t in top if t.id not in previous_rank]
    section.left_top = [t.title for t in before if t.id not in now_ids]
    section.overdue = _overdue_lines(as_of)
    return section


def score_steps(
    threat_ids: list[int], first_day: date, as_of: date
) -> dict[int, tuple[int | None, list[ScoreStep]]]:
    """For each threat: its residual score in force on ``first_day`` and every recorded
    change after it up to ``as_of`` (deployments with their countermeasure, manual
    re-scores with their note), in the order the as-of figures apply them."""
    from app.models.countermeasures import Countermeasure
    from app.models.threats import ThreatScoreChange as C

    if not threat_ids:
        return {}
    rows = db.session.execute(
        select(C.threat_id, C.changed_on, C.residual_score, Countermeasure.title, C.note)
        .outerjoin(Countermeasure, Countermeasure.id == C.countermeasure_id)
        .where(C.threat_id.in_(threat_ids), C.changed_on <= as_of)
        .order_by(C.threat_id, C.changed_on, C.id)
    )
    found: dict[int, tuple[int | None, list[ScoreStep]]] = {t: (None, []) for t in threat_ids}
    for threat_id, changed_on, residual, countermeasure, note in rows:
        start, steps = found[threat_id]
        if changed_on <= first_day:
            found[threat_id] = (residual, steps)
            continue
        before = steps[-1].after if steps else start
        steps.append(ScoreStep(changed_on, before, residual, countermeasure or "", note or ""))
    return found


def _kr_target(objective: Objective | None, quarter: Quarter) -> tuple[int | None, int, str] | None:
    """(quarter target, yearly goal, KR code) from the objective's countermeasure key result
    with a numeric goal, or None when it has none."""
    if objective is None:
        return None
    for kr in objective.key_results:
        if kr.metric in COUNTERMEASURE_METRICS and kr.goal_value:
            quarters = quarters_of_fiscal_year(quarter.fiscal_year, quarter.start_month)
            target = _kr_quarter_target(kr.goal_value, quarters, kr.baseline_quarter_start, quarter)
            return target, int(kr.goal_value), kr.code or "the key result"
    return None


def gather_countermeasures(
    quarter: Quarter,
    detail: bool = True,
    objective: Objective | None = None,
    as_of: date | None = None,
) -> CountermeasureSection | None:
    from app.countermeasures import figures as cms
    from app.models.countermeasures import Countermeasure

    as_of = as_of or quarter.last_day
    from_kr = _kr_target(objective, quarter)
    if from_kr is not None:
        quarter_target, yearly_goal, source = from_kr
    else:
        quarter_target, yearly_goal, source = cms.quarter_target(), cms.yearly_goal(), ""
    previous = quarter.previous()
    section = CountermeasureSection(
        deployed_in_quarter=cms.countermeasures_deployed(quarter),
        deployed_to_date=cms.countermeasures_deployed_to_date(quarter),
        quarter_target=quarter_target,
        yearly_goal=yearly_goal,
        deployed=[],
        top_treated=[],
        slipped=[],
        slipped_count=cms.slipped_count(quarter),
        previous_to_date=(
            cms.countermeasures_deployed_to_date(previous)
            if previous.fiscal_year == quarter.fiscal_year
            else 0
        ),
        target_source=source,
    )
    if not detail:
        return section
    top_by_cm: dict[int, list[str]] = {}
    treated = cms.top_threats_treated(quarter, cms.quarter_target())
    steps = score_steps([e.threat.id for e in treated], quarter.first_day, as_of)
    for entry in treated:
        start, changes = steps.get(entry.threat.id, (None, []))
        start = entry.threat.residual_score if start is None else start
        section.top_treated.append(
            TopThreatTreatment(
                title=entry.threat.title,
                residual_score=start,
                treated_by=tuple(c.title for c in entry.countermeasures),
                rank=entry.rank,
                end_residual=changes[-1].after if changes else start,
                steps=tuple(changes),
            )
        )
        for c in entry.countermeasures:
            top_by_cm.setdefault(c.id, []).append(entry.threat.title)
    # Every deployment of the quarter as plain rows, the ones that took most off the
    # register's residual scores first.
    rows = list(
        db.session.execute(
            select(Countermeasure.id, Countermeasure.title, Countermeasure.deployed_on).where(
                cms._deployed_between(quarter.first_day, quarter.last_day)
            )
        ).all()
    )
    reductions = cms.residual_reductions_for([r.id for r in rows])
    rows.sort(key=lambda r: (-reductions.get(r.id, 0), r.deployed_on, r.id))
    section.deployed = [
        CountermeasureLine(
            id=r.id,
            title=r.title,
            deployed_on=r.deployed_on,
            top_threats=tuple(top_by_cm.get(r.id, ())),
            reduction=reductions.get(r.id, 0),
        )
        for r in rows[:LIST_CAP]
    ]
    section.slipped = [
        CountermeasureLine(id=c.id, title=c.title, deployed_on=c.deployed_on)
        for c in db.session.scalars(cms.slipped_query(quarter).limit(LIST_CAP))
    ]
    return section


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
) -> CoverageSection | None:
    """``known``: coverage already computed by date (``coverage_on_dates``)."""
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
        known.update(figures.coverage_on_dates(missing))
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


def _linked_libraries(objective: Objective) -> list[int]:
    found: list[int] = []
    for kr in objective.key_results:
        base, _, raw = (kr.metric or "").partition(":")
        if base in CATALOGUE_METRIC_NAMES and raw.isdigit() and int(raw) not in found:
            found.append(int(raw))
    return found


def gather_catalogues(
    objective: Objective, quarter: Quarter, as_of: date
) -> CatalogueSection | None:
    """The coverage of each library the objective's key results link, from the figures the
    catalogue pages show (``app.catalogues.figures``)."""
    from app.catalogues import figures
    from app.models.catalogues import Library, LibraryKind

    quarters = [
        q for q in quarters_of_fiscal_year(quarter.fiscal_year, quarter.start_month) if q <= quarter
    ]
    ends = [(q.label, q.last_day if q != quarter else as_of) for q in quarters]
    section = CatalogueSection()
    for library_id in _linked_libraries(objective):
        library = db.session.get(Library, library_id)
        if library is None:
            continue
        block = CatalogueBlock(library.id, library.name, library.kind.value)
        if library.kind == LibraryKind.ATTACK:
            matrix = figures.attack_coverage_on(library.id, as_of)
            block.threatened, block.covered = matrix.threatened, matrix.covered
            block.exposed = matrix.exposed
            block.tactics = [
                TacticLine(c.name, len(c.cells), c.threatened, c.covered) for c in matrix.columns
            ]
            names = {c.ref: c.name for c in matrix.columns}
            block.tactics_uncovered = [names[ref] for ref in matrix.tactics_uncovered]
            exposed = {
                cell.ref: cell
                for column in matrix.columns
                for cell in column.cells
                if cell.state == "exposed"
            }
            ordered = sorted(
                exposed.values(), key=lambda c: (-(c.worst_residual or 0), -c.threats, c.ref)
            )
            block.exposed_techniques = [
                ExposedTechnique(c.ref, c.name, c.threats, c.worst_residual)
                for c in ordered[:LIST_CAP]
            ]
            block.exposed_more = max(0, len(ordered) - LIST_CAP)
            block.trend = [
                (label, figures.exposed_techniques(library.id, day)) for label, day in ends
            ]
        else:
            framework = figures.framework_coverage_on(library.id, as_of)
            block.controls, block.implemented = framework.controls, framework.implemented
            block.percent = framework.percent
            block.groups = [
                (f"{g.ref} {g.name}", g.controls, g.implemented, g.percent)
                for g in framework.groups
            ]
            block.trend = [
                (label, figures.controls_implemented_percent(library.id, day))
                for label, day in ends
            ]
        section.blocks.append(block)
    return section
