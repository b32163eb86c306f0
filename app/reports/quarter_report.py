"""The quarter's Front Line Defenses report as plain values, gathered from the register.

``gather_quarter_report`` asks each area's figure functions (the same ones the area's
pages, the OKR table and the dashboard use) and returns a ``QuarterReport`` of plain
dataclasses. The PDF builder and the dashboard only lay these values out; neither
computes a figure of its own.

Long lists are capped (``LIST_CAP`` rows and "and N more") so the report stays readable
at any size of register.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from types import ModuleType

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain.quarters import Quarter, quarters_of_fiscal_year
from app.domain.scoring import Level, RiskMatrix, level_for
from app.extensions import db
from app.models.okrs import KeyResult, KeyResultStatus, Objective, ObjectiveNarrative, Rating

TOP_THREATS = 10
LIST_CAP = 15


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
    # Residual score and rank at the previous quarter end (None: not in the register then).
    previous_residual: int | None = None
    previous_rank: int | None = None

    @property
    def movement(self) -> str:
        if self.previous_residual is None:
            return "new"
        delta = self.residual_score - self.previous_residual
        if delta > 0:
            return f"up {delta}"
        if delta < 0:
            return f"down {-delta}"
        return "unchanged"


@dataclass(frozen=True)
class ReviewLine:
    id: int
    title: str
    due_on: date | None
    owner: str


@dataclass
class RiskSection:
    inherent: HeatMap
    residual: HeatMap
    top_threats: list[ThreatLine]
    open_critical: int
    overdue_count: int
    overdue: list[ReviewLine] = field(default_factory=list)
    level_counts: dict[Level, int] = field(default_factory=dict)

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
class TopThreatTreatment:
    title: str
    residual_score: int
    treated_by: tuple[str, ...]


@dataclass
class CountermeasureSection:
    deployed_in_quarter: int
    deployed_to_date: int
    quarter_target: int
    yearly_goal: int
    deployed: list[CountermeasureLine]
    top_treated: list[TopThreatTreatment]
    slipped: list[CountermeasureLine]
    slipped_count: int

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


@dataclass
class CoverageSection:
    spof_staff: int
    spof_systems: int
    uncovered: int
    sole_responsible: list[tuple[str, tuple[str, ...]]]
    uncovered_systems: list[str]
    trend: list[TrendPoint]
    pipeline: list[tuple[str, int]]
    positions_filled: int
    positions_active_hiring: int
    positions_final_stages: int
    positions_goal: int

    @property
    def sole_more(self) -> int:
        return max(0, self.spof_staff - len(self.sole_responsible))

    @property
    def uncovered_more(self) -> int:
        return max(0, self.uncovered - len(self.uncovered_systems))


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

    @property
    def quarter_labels(self) -> list[str]:
        return [f"Q{q.number}" for q in quarters_of_fiscal_year(self.quarter.fiscal_year)]

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
        return figures


def headline_differences(
    published: dict[str, object], live: dict[str, object]
) -> list[tuple[str, object, object]]:
    """(label, published, live) for every headline figure the register now gives differently."""
    labels = list(published) + [k for k in live if k not in published]
    return [
        (label, published.get(label), live.get(label))
        for label in labels
        if published.get(label) != live.get(label)
    ]


# ---------------------------------------------------------------- gathering


def _figures(module: str) -> ModuleType | None:
    """An area's figure module, or None when that area is not part of this installation."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is not None and module.startswith(error.name):
            return None
        raise


def report_as_of(quarter: Quarter, today: date) -> date:
    """The date the figures are taken on: the quarter end, or today inside the quarter."""
    return min(quarter.last_day, today)


def gather_quarter_report(
    objective: Objective | None, quarter: Quarter, today: date, detail: bool = True
) -> QuarterReport:
    """The report of ``objective`` for ``quarter``; ``detail=False`` keeps only the
    headline figures (the dashboard), computed by the very same functions. Without an
    objective the register's figures are still gathered (no key results)."""
    as_of = report_as_of(quarter, today)
    narrative = None
    if objective is not None:
        narrative = db.session.scalar(
            select(ObjectiveNarrative.text).where(
                ObjectiveNarrative.objective_id == objective.id,
                ObjectiveNarrative.quarter_start == quarter.first_day,
            )
        )
    return QuarterReport(
        objective_id=objective.id if objective else 0,
        objective_title=objective.title if objective else "",
        statement=(objective.statement or "") if objective else "",
        narrative=narrative or "",
        department=(objective.department or "") if objective else "",
        quarter=quarter,
        as_of=as_of,
        in_progress=as_of < quarter.last_day,
        key_results=gather_key_results(objective, quarter) if objective else [],
        risk=gather_risk(quarter, as_of, detail),
        countermeasures=gather_countermeasures(quarter, detail),
        coverage=gather_coverage(quarter, as_of, detail),
    )


def gather_key_results(objective: Objective, quarter: Quarter) -> list[KrLine] | None:
    okrs = _figures("app.okrs.figures")
    if okrs is None:
        return None
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
    for row in okrs.kr_table(objective, objective.fiscal_year):
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


def gather_risk(quarter: Quarter, as_of: date, detail: bool = True) -> RiskSection | None:
    threats = _figures("app.threats.figures")
    if threats is None:
        return None
    from app.risk import risk_matrix, top_threats_as_of

    matrix = risk_matrix()
    section = RiskSection(
        inherent=HeatMap("inherent", threats.heatmap_as_of(as_of, "inherent"), matrix),
        residual=HeatMap("residual", threats.heatmap_as_of(as_of, "residual"), matrix),
        top_threats=[],
        open_critical=threats.open_critical_risks(as_of),
        overdue_count=threats.overdue_reviews(as_of),
        level_counts=dict(threats.level_counts(as_of)),
    )
    if not detail:
        return section
    top = top_threats_as_of(as_of, TOP_THREATS)
    ids = [t.id for t in top]
    previous_end = quarter.previous().last_day
    previous = _previous_scores(ids, previous_end)
    previous_rank = {t.id: i for i, t in enumerate(top_threats_as_of(previous_end, TOP_THREATS), 1)}
    treatments = _treatment_labels(ids, as_of)
    lines = [
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
    section.overdue = [
        ReviewLine(threat.id, threat.title, threat.next_review_on, group.owner_name)
        for group in threats.reviews_due(as_of, limit=LIST_CAP)
        for threat in group.threats
    ]
    section.top_threats = lines
    return section


def gather_countermeasures(quarter: Quarter, detail: bool = True) -> CountermeasureSection | None:
    cms = _figures("app.countermeasures.figures")
    if cms is None:
        return None

    section = CountermeasureSection(
        deployed_in_quarter=cms.countermeasures_deployed(quarter),
        deployed_to_date=cms.countermeasures_deployed_to_date(quarter),
        quarter_target=cms.quarter_target(),
        yearly_goal=cms.yearly_goal(),
        deployed=[],
        top_treated=[],
        slipped=[],
        slipped_count=cms.slipped_count(quarter),
    )
    if not detail:
        return section
    top_by_cm: dict[int, list[str]] = {}
    for entry in cms.top_threats_treated(quarter, section.quarter_target):
        section.top_treated.append(
            TopThreatTreatment(
                title=entry.threat.title,
                residual_score=entry.threat.residual_score,
                treated_by=tuple(c.title for c in entry.countermeasures),
            )
        )
        for c in entry.countermeasures:
            top_by_cm.setdefault(c.id, []).append(entry.threat.title)
    deployed = list(db.session.scalars(cms.deployed_in_quarter_query(quarter).limit(LIST_CAP)))
    reductions = cms.residual_reductions_for([c.id for c in deployed])
    section.deployed = [
        CountermeasureLine(
            id=c.id,
            title=c.title,
            deployed_on=c.deployed_on,
            top_threats=tuple(top_by_cm.get(c.id, ())),
            reduction=reductions.get(c.id, 0),
        )
        for c in deployed
    ]
    section.slipped = [
        CountermeasureLine(id=c.id, title=c.title, deployed_on=c.deployed_on)
        for c in db.session.scalars(cms.slipped_query(quarter).limit(LIST_CAP))
    ]
    return section


def gather_coverage(quarter: Quarter, as_of: date, detail: bool = True) -> CoverageSection | None:
    figures = _figures("app.coverage.figures")
    if figures is None:
        return None
    coverage = figures.coverage_on(as_of)
    trend = []
    if detail:
        trend = [
            TrendPoint(q.label, staff, systems, uncovered)
            for q, staff, systems, uncovered in figures.coverage_trend_for_fiscal_year(
                quarter.fiscal_year
            )
            if q <= quarter
        ]
    pipeline = [(status.label, count) for status, count in figures.pipeline_on(as_of).items()]
    return CoverageSection(
        spof_staff=coverage.spof_staff_count,
        spof_systems=coverage.spof_system_count,
        uncovered=coverage.uncovered_count,
        sole_responsible=[
            (person.name, tuple(s.name for s in systems))
            for person, systems in coverage.sole_responsible[:LIST_CAP]
        ],
        uncovered_systems=[s.name for s in coverage.uncovered_systems[:LIST_CAP]],
        trend=trend,
        pipeline=pipeline,
        positions_filled=figures.positions_filled(as_of),
        positions_active_hiring=figures.positions_in_active_hiring(as_of),
        positions_final_stages=figures.positions_in_final_stages(as_of),
        positions_goal=figures.spof_positions_goal(),
    )
