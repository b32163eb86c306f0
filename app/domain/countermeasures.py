"""Countermeasure figures over plain values: counting per quarter and top threats treated.

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
    "TopThreatTreatment",
    "allowed_next_statuses",
    "deployed_between",
    "fiscal_year_start",
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
