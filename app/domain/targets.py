"""Per-quarter targets from a key result's yearly goal and baseline quarter (plain values).

"Deploy countermeasures for the top 2 threats per quarter after the programme is set up
in Q1", with a goal of 6 for the year: the baseline stands at the end of Q1, and the goal
is shared over Q2, Q3 and Q4 (2 each). A quarter up to the baseline quarter has no target,
so it can show no miss; the shares always add up to the yearly goal.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from app.domain.quarters import Quarter

__all__ = ["cumulative_target", "quarter_target"]


def _target_quarters(quarters: list[Quarter], baseline_quarter_start: date | None) -> list[Quarter]:
    if baseline_quarter_start is None:
        return list(quarters)
    return [q for q in quarters if q.first_day > baseline_quarter_start]


def cumulative_target(
    goal: float, quarters: list[Quarter], baseline_quarter_start: date | None, quarter: Quarter
) -> int | None:
    """What should be reached by the end of ``quarter`` (None: no target applies yet)."""
    targets = _target_quarters(quarters, baseline_quarter_start)
    if quarter not in targets:
        return None
    done = targets.index(quarter) + 1
    share = Decimal(str(goal)) * done / len(targets)
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def quarter_target(
    goal: float, quarters: list[Quarter], baseline_quarter_start: date | None, quarter: Quarter
) -> int | None:
    """The quarter's own share of the goal (None before the programme's first quarter)."""
    now = cumulative_target(goal, quarters, baseline_quarter_start, quarter)
    if now is None:
        return None
    before = cumulative_target(goal, quarters, baseline_quarter_start, quarter.previous())
    return now - (before or 0)
