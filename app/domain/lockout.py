"""Per-account lockout after failed sign-ins: how long, from the count of failures in a row."""

from __future__ import annotations


def lock_seconds(failures: int, threshold: int, base_seconds: int, max_seconds: int) -> int:
    """Seconds an account stays locked after its ``failures``-th failed sign-in in a row.

    Nothing below the threshold; at it ``base_seconds``, doubling with each further failure
    (the back-off), never more than ``max_seconds``.
    """
    if threshold <= 0 or failures < threshold:
        return 0
    extra = failures - threshold
    if extra >= 32:  # 2**32 times any base is past every sensible maximum
        return max_seconds
    return min(base_seconds * (1 << extra), max_seconds)
