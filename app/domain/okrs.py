"""Key-result arithmetic over plain values: progress toward a goal, number display."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["format_number", "progress_percent"]


def progress_percent(
    value: float | None,
    goal: float | None,
    baseline: float | None = None,
    decreasing: bool = False,
) -> int | None:
    """Whole percent of the way from the baseline to the goal, clamped to 0-100.

    An increasing goal starts from the baseline (0 when there is none); a decreasing goal
    needs a baseline above the goal ("from 8 down to 4": 6 is 50% of the way).
    Returns None when progress cannot be measured.
    """
    if value is None or goal is None:
        return None
    if decreasing:
        if baseline is None or baseline <= goal:
            return None
        ratio = (Decimal(str(baseline)) - Decimal(str(value))) / (
            Decimal(str(baseline)) - Decimal(str(goal))
        )
    else:
        start = Decimal(str(baseline)) if baseline is not None else Decimal(0)
        if goal <= start:
            return None
        ratio = (Decimal(str(value)) - start) / (Decimal(str(goal)) - start)
    percent = int((ratio * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return max(0, min(100, percent))


def format_number(value: float | None) -> str:
    """4.0 shows as "4", 12.5 as "12.5"; None as an empty string."""
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:g}"
