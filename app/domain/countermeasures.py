"""Countermeasure figures over plain values: counting per quarter, top threats treated, credit.

The deployment date decides the quarter a countermeasure counts in, whatever its later
status: one retired in Q3 still counts as deployed in the Q2 it was deployed. Nothing here
touches Flask or the database; ``app.countermeasures.figures`` feeds it rows. Counting
per quarter (deployed, to date, slipped) runs in SQL there, its one home.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

from app.domain.quarters import Quarter
from app.domain.scoring import Scored
from app.domain.words import Worded

__all__ = [
    "CountermeasureFact",
    "CountermeasureStatus",
    "ScoreEvent",
    "TopThreatTreatment",
    "allowed_next_statuses",
    "deployed_between",
    "fiscal_year_start",
    "residual_reductions",
    "top_threats_treated",
]


class CountermeasureStatus(Worded):
    """Where a countermeasure stands, in the order it moves through them (stored by name)."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DEPLOYED = "deployed"
    RETIRED = "retired"


def allowed_next_statuses(current: str) -> tuple[str, ...]:
    """Statuses a countermeasure may move to from ``current`` (by name): forward only.

    A planned or in-progress countermeasure may also be retired (dropped) without being
    deployed; it then never counts as deployed.
    """
    order = [status.name for status in CountermeasureStatus]
    return tuple(order[order.index(current) + 1 :])


@dataclass(frozen=True)
class CountermeasureFact:
    """What the quarter figures need to know about one countermeasure."""

    id: int
    title: str = ""
    status: str = "PLANNED"
    deployed_on: date | None = None
    target_quarter_start: date | None = None
    threat_ids: frozenset[int] = field(default_factory=frozenset)


def fiscal_year_start(quarter: Quarter) -> date:
    return Quarter(quarter.fiscal_year, 1, quarter.start_month).first_day


def deployed_between(
    facts: Iterable[CountermeasureFact], first: date, last: date
) -> list[CountermeasureFact]:
    """Countermeasures deployed from ``first`` to ``last`` inclusive, whatever their status now."""
    return [f for f in facts if f.deployed_on is not None and first <= f.deployed_on <= last]


# The ranked threat as the caller gave it (a row with its title), handed back as is.
S = TypeVar("S", bound=Scored)


@dataclass(frozen=True)
class TopThreatTreatment(Generic[S]):
    """One of the quarter's top threats, and the countermeasures deployed against it then."""

    rank: int
    threat: S
    countermeasures: tuple[CountermeasureFact, ...]

    @property
    def treated(self) -> bool:
        return bool(self.countermeasures)


def top_threats_treated(
    top_threats: Sequence[S],
    facts: Iterable[CountermeasureFact],
    quarter: Quarter,
) -> list[TopThreatTreatment[S]]:
    """For each ranked threat (already in rank order), the countermeasures treating it
    that were deployed inside ``quarter``. A countermeasure treating two top threats
    counts for both."""
    in_quarter = deployed_between(facts, quarter.first_day, quarter.last_day)
    result = []
    for rank, threat in enumerate(top_threats, start=1):
        treating = tuple(
            sorted(
                (f for f in in_quarter if threat.id in f.threat_ids),
                key=lambda f: (f.deployed_on, f.id),
            )
        )
        result.append(TopThreatTreatment(rank=rank, threat=threat, countermeasures=treating))
    return result


@dataclass(frozen=True)
class ScoreEvent:
    """One entry of a threat's score history (as in ThreatScoreChange)."""

    id: int
    threat_id: int
    changed_on: date
    residual_score: int
    countermeasure_id: int | None = None


def residual_reductions(events: Iterable[ScoreEvent]) -> dict[int, int]:
    """Residual-score reduction credited to each countermeasure, by countermeasure id.

    For every score change a countermeasure brought, the reduction is the threat's residual
    score just before that change minus the new one (a rise counts negative); a change with
    nothing before it credits nothing. ``events`` must hold the whole history of every
    threat concerned, in any order.
    """
    by_threat: dict[int, list[ScoreEvent]] = {}
    for event in events:
        by_threat.setdefault(event.threat_id, []).append(event)
    credit: dict[int, int] = {}
    for history in by_threat.values():
        history.sort(key=lambda e: (e.changed_on, e.id))
        for previous, event in zip(history, history[1:], strict=False):
            if event.countermeasure_id is not None:
                credit[event.countermeasure_id] = credit.get(event.countermeasure_id, 0) + (
                    previous.residual_score - event.residual_score
                )
        first = history[0] if history else None
        if first is not None and first.countermeasure_id is not None:
            credit.setdefault(first.countermeasure_id, 0)
    return credit
