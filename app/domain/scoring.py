"""Risk scoring: likelihood x impact on a configurable matrix, bands, history and ranking."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol, TypeGuard, TypeVar

from app.domain.words import Worded

__all__ = [
    "DEFAULT_MATRIX",
    "DEFAULT_REVIEW_INTERVALS",
    "Level",
    "RankedThreat",
    "RiskMatrix",
    "Scored",
    "ScoreChange",
    "ScoringError",
    "Threatlike",
    "heatmap_counts",
    "level_for",
    "next_review_date",
    "rank_top_threats",
    "score",
    "score_as_of",
]


class ScoringError(ValueError):
    """An invalid score input or risk matrix configuration."""


class Level(Worded):
    # String values so the level can be stored and round-tripped as text.
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def css(self) -> str:
        return _LEVEL_CSS[self]

    @property
    def rank(self) -> int:
        """Severity order, 1 (low) to 4 (critical); Enum members are not orderable by default."""
        return _LEVEL_ORDER.index(self) + 1


_LEVEL_ORDER = (Level.LOW, Level.MEDIUM, Level.HIGH, Level.CRITICAL)
_LEVEL_CSS = {
    Level.LOW: "success",
    Level.MEDIUM: "warning",
    Level.HIGH: "orange",
    Level.CRITICAL: "danger",
}


def _is_int(value: object) -> TypeGuard[int]:
    # bool is an int subclass, but True as a likelihood is almost certainly a bug upstream.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class RiskMatrix:
    likelihood_labels: tuple[str, ...] = (
        "Rare",
        "Unlikely",
        "Possible",
        "Likely",
        "Almost certain",
    )
    impact_labels: tuple[str, ...] = ("Negligible", "Minor", "Moderate", "Major", "Severe")
    # Minimum score for each level, ascending: 1-4 low, 5-9 medium, 10-15 high, 16-25 critical.
    thresholds: tuple[tuple[Level, int], ...] = (
        (Level.LOW, 1),
        (Level.MEDIUM, 5),
        (Level.HIGH, 10),
        (Level.CRITICAL, 16),
    )

    def __post_init__(self) -> None:
        # Accept lists (e.g. from settings JSON) but store tuples so the matrix stays hashable.
        object.__setattr__(self, "likelihood_labels", tuple(self.likelihood_labels))
        object.__setattr__(self, "impact_labels", tuple(self.impact_labels))
        object.__setattr__(self, "thresholds", tuple(tuple(t) for t in self.thresholds))
        self.validate()

    @property
    def max_likelihood(self) -> int:
        return len(self.likelihood_labels)

    @property
    def max_impact(self) -> int:
        return len(self.impact_labels)

    @property
    def max_score(self) -> int:
        return self.max_likelihood * self.max_impact

    def validate(self) -> None:
        if not self.likelihood_labels:
            raise ScoringError("The risk matrix needs at least one likelihood label.")
        if not self.impact_labels:
            raise ScoringError("The risk matrix needs at least one impact label.")
        if not self.thresholds:
            raise ScoringError("The risk matrix needs at least one level threshold.")
        previous_level: Level | None = None
        previous_min = 0
        for entry in self.thresholds:
            if len(entry) != 2 or not isinstance(entry[0], Level) or not _is_int(entry[1]):
                raise ScoringError(f"Each threshold must be (Level, minimum score), got {entry!r}.")
            level, minimum = entry
            if previous_level is None and minimum != 1:
                raise ScoringError(
                    f"The first threshold must start at score 1, got {minimum} for {level.label}."
                )
            if previous_level is not None and minimum <= previous_min:
                raise ScoringError(
                    f"Threshold scores must strictly increase: {level.label} starts at {minimum}, "
                    f"not above {previous_level.label} at {previous_min}."
                )
            if previous_level is not None and level.rank <= previous_level.rank:
                raise ScoringError(
                    f"Threshold levels must be in increasing severity: {level.label} "
                    f"cannot follow {previous_level.label}."
                )
            previous_level, previous_min = level, minimum
        if previous_level is not None and previous_min > self.max_score:
            raise ScoringError(
                f"The {previous_level.label} threshold ({previous_min}) is above the "
                f"maximum score {self.max_score}."
            )

    @property
    def levels(self) -> tuple[Level, ...]:
        return tuple(level for level, _ in self.thresholds)

    def score_range(self, level: Level) -> tuple[int, int]:
        """Inclusive (min, max) score for ``level``, for legends on the heat map."""
        bounds = [minimum for _, minimum in self.thresholds[1:]] + [self.max_score + 1]
        for (lvl, minimum), next_minimum in zip(self.thresholds, bounds, strict=True):
            if lvl is level:
                return minimum, next_minimum - 1
        raise ScoringError(f"{level.label} is not used by this risk matrix.")


DEFAULT_MATRIX = RiskMatrix()


def _check_axis(name: str, value: object, maximum: int) -> int:
    if not _is_int(value) or not 1 <= value <= maximum:
        raise ScoringError(f"{name} must be a whole number from 1 to {maximum}, got {value!r}.")
    return value


def score(likelihood: int, impact: int, matrix: RiskMatrix = DEFAULT_MATRIX) -> int:
    _check_axis("Likelihood", likelihood, matrix.max_likelihood)
    _check_axis("Impact", impact, matrix.max_impact)
    return likelihood * impact


def level_for(score: int, matrix: RiskMatrix = DEFAULT_MATRIX) -> Level:
    _check_axis("Score", score, matrix.max_score)
    found = matrix.thresholds[0][0]
    for level, minimum in matrix.thresholds:
        if score >= minimum:
            found = level
    return found


@dataclass(frozen=True)
class ScoreChange:
    changed_on: date
    # Breaks ties between changes recorded on the same day (recording order).
    sequence: int
    inherent_likelihood: int
    inherent_impact: int
    residual_likelihood: int
    residual_impact: int
    author: str | None = None

    @property
    def inherent_score(self) -> int:
        return self.inherent_likelihood * self.inherent_impact

    @property
    def residual_score(self) -> int:
        return self.residual_likelihood * self.residual_impact


def score_as_of(history: Iterable[ScoreChange], as_of: date) -> ScoreChange | None:
    """The assessment in force on ``as_of``; None if the risk had not been assessed yet."""
    eligible = (change for change in history if change.changed_on <= as_of)
    return max(eligible, key=lambda c: (c.changed_on, c.sequence), default=None)


class Scored(Protocol):
    """A threat as every ranking reads it: which one, and its residual score."""

    @property
    def id(self) -> int: ...
    @property
    def residual_score(self) -> int: ...


class Threatlike(Scored, Protocol):
    @property
    def inherent_score(self) -> int: ...
    @property
    def identified_on(self) -> date: ...


@dataclass(frozen=True)
class RankedThreat:
    id: int
    residual_score: int
    inherent_score: int
    identified_on: date


T = TypeVar("T", bound=Threatlike)


def rank_top_threats(threats: Iterable[T], n: int | None = None) -> list[T]:
    """Highest residual first; ties by inherent (desc), then older first, then id."""
    if n is not None and (not _is_int(n) or n < 0):
        raise ScoringError(f"The number of threats to show must be 0 or more, got {n!r}.")
    ranked = sorted(
        threats, key=lambda t: (-t.residual_score, -t.inherent_score, t.identified_on, t.id)
    )
    return ranked if n is None else ranked[:n]


DEFAULT_REVIEW_INTERVALS: dict[Level, int] = {
    Level.CRITICAL: 30,
    Level.HIGH: 90,
    Level.MEDIUM: 180,
    Level.LOW: 365,
}


def next_review_date(
    from_date: date, level: Level, intervals: Mapping[Level, int] = DEFAULT_REVIEW_INTERVALS
) -> date:
    try:
        days = intervals[level]
    except KeyError:
        raise ScoringError(f"No review interval is configured for {level.label} risks.") from None
    return from_date + timedelta(days=days)


def heatmap_counts(
    pairs: Iterable[tuple[int, int]], matrix: RiskMatrix = DEFAULT_MATRIX
) -> dict[tuple[int, int], int]:
    """Count of (likelihood, impact) pairs per cell; every cell present, so no gaps."""
    counts = {
        (likelihood, impact): 0
        for likelihood in range(1, matrix.max_likelihood + 1)
        for impact in range(1, matrix.max_impact + 1)
    }
    for likelihood, impact in pairs:
        score(likelihood, impact, matrix)  # raises for a pair outside the matrix
        counts[(likelihood, impact)] += 1
    return counts
