"""The report as plain values: one dataclass per section and its lines, the headline and
its figures. The PDF and the dashboard lay these out; nothing here reads the register."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from app.domain.quarters import Quarter, quarters_of_fiscal_year
from app.domain.scoring import Level, RiskMatrix, level_for
from app.models.okrs import Rating
from app.reports.quarter_report.catalogue_values import CatalogueSection
from app.reports.quarter_report.sections import (
    ALL_AREAS,
    COUNTERMEASURES,
    COVERAGE,
    HIRING,
    RISK,
    TOP_THREATS,
)


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

    @classmethod
    def empty(cls) -> RiskSection:
        """The section of a report that does not show the risk area."""
        return cls(
            inherent=HeatMap("inherent", {}, RiskMatrix()),
            residual=HeatMap("residual", {}, RiskMatrix()),
            top_threats=[],
            open_critical=0,
            overdue_count=0,
        )

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

    @classmethod
    def empty(cls) -> CountermeasureSection:
        """The section of a report that does not show the countermeasures area."""
        return cls(
            deployed_in_quarter=0,
            deployed_to_date=0,
            quarter_target=None,
            yearly_goal=0,
            deployed=[],
            top_treated=[],
            slipped=[],
            slipped_count=0,
        )

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

    @classmethod
    def empty(cls) -> CoverageSection:
        """The section of a report that shows neither coverage nor hiring."""
        return cls(
            spof_staff=0,
            spof_systems=0,
            uncovered=0,
            sole_responsible=[],
            uncovered_systems=[],
            trend=[],
            pipeline=[],
            positions_filled=0,
            positions_active_hiring=0,
            positions_final_stages=0,
            positions_goal=0,
        )

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
    # Every section is held; one the report does not show (``areas``) stays empty.
    key_results: list[KrLine] = field(default_factory=list)
    risk: RiskSection = field(default_factory=RiskSection.empty)
    countermeasures: CountermeasureSection = field(default_factory=CountermeasureSection.empty)
    coverage: CoverageSection = field(default_factory=CoverageSection.empty)
    catalogues: CatalogueSection = field(default_factory=CatalogueSection)
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
        if self.shows(HIRING):
            found.append(
                Headline(
                    f"SPOF positions filled (goal {count(cov.positions_goal)})",
                    cov.positions_filled,
                    cov.previous_positions_filled,
                    previous,
                )
            )
        if self.shows(COUNTERMEASURES):
            found.append(
                Headline(
                    f"Countermeasures deployed in {self.quarter.fiscal_year_label} "
                    f"(goal {count(cm.yearly_goal)})",
                    cm.deployed_to_date,
                    cm.previous_to_date,
                    previous,
                )
            )
        if self.shows(COVERAGE):
            found.append(
                Headline(
                    "Staff solely responsible for a production system",
                    cov.spof_staff,
                    cov.previous_spof_staff,
                    previous,
                )
            )
        if self.shows(RISK):
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
        if self.shows(RISK):
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
        if self.shows(COUNTERMEASURES):
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
        if self.shows(HIRING) and cov.previous_positions_filled is not None:
            filled = cov.positions_filled - cov.previous_positions_filled
            if filled:
                lines.append(f"{_many(filled, 'SPOF position')} filled in {self.quarter.label}.")
        if self.shows(COVERAGE):
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
        for kr in self.key_results:
            cell = kr.cells[index]
            figures[f"{kr.code} {self.quarter.label} status"] = cell.text
            if kr.linked:
                figures[f"{kr.code} register value"] = cell.value_text or None
        if self.shows(RISK):
            figures["Threats in the register"] = self.risk.residual.total
            figures["Open critical risks"] = self.risk.open_critical
            figures["Reviews overdue"] = self.risk.overdue_count
            figures["Top threats"] = ", ".join(
                f"{t.title} ({t.residual_score})" for t in self.risk.top_threats[:5]
            )
        if self.shows(COUNTERMEASURES):
            cm = self.countermeasures
            figures["Countermeasures deployed in the quarter"] = cm.deployed_in_quarter
            figures["Countermeasures deployed to date"] = cm.deployed_to_date
            figures["Countermeasures slipped"] = cm.slipped_count
        if self.shows(COVERAGE) or self.shows(HIRING):
            cov = self.coverage
            figures["Staff solely responsible (SPOF)"] = cov.spof_staff
            figures["SPOF systems"] = cov.spof_systems
            figures["Uncovered systems"] = cov.uncovered
            figures["SPOF positions filled"] = cov.positions_filled
            figures["SPOF positions in active hiring"] = cov.positions_active_hiring
            figures["SPOF positions in final stages"] = cov.positions_final_stages
        for block in self.catalogues.blocks:
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
