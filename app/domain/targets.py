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

__all__ = ["cumulative_target", "quarter_target", "staff_target_path"]


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


def _whole(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def staff_target_path(
    baseline: int,
    year_end_goal: int,
    quarters: list[Quarter],
    baseline_quarter_start: date | None,
    measured: dict[Quarter, int],
) -> list[tuple[Quarter, int, int | None, int | None]]:
    """(quarter, target, measured, projected) for every quarter of the fiscal year.

    A count to bring down from ``baseline`` (measured at the baseline point: the end of the
    baseline quarter, or the fiscal year's start) to ``year_end_goal`` by the year's end.
    The target of a quarter up to the baseline quarter is the baseline; after it the
    reduction is shared over the remaining quarters as ``cumulative_target`` shares a
    goal. ``measured``: the quarter ends measured so far. The quarters after the last
    measured one are projected at the pace since the baseline (whole numbers, never below
    zero); with nothing measured after the baseline, the count is projected unchanged.
    """
    reduction = baseline - year_end_goal
    start = 0
    if baseline_quarter_start is not None:
        start = next(
            (i + 1 for i, q in enumerate(quarters) if q.first_day == baseline_quarter_start), 0
        )
    measured_at = [i for i, q in enumerate(quarters) if q in measured]
    last = measured_at[-1] if measured_at else None
    pace = Decimal(0)
    if last is not None and last + 1 > start:
        pace = Decimal(measured[quarters[last]] - baseline) / (last + 1 - start)
    path = []
    for i, q in enumerate(quarters):
        done = cumulative_target(reduction, quarters, baseline_quarter_start, q)
        target = baseline - (done or 0)
        projected = None
        if last is None or i > last:
            base, since = (
                (baseline, i + 1 - start) if last is None else (measured[quarters[last]], i - last)
            )
            projected = max(0, _whole(base + pace * since))
        path.append((q, target, measured.get(q), projected))
    return path
