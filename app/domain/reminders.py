"""What is worth telling, and when: each reminder rule once, over plain values.

Every rule is dated by the register's own "today" (passed in, never read from a clock),
so the demo pinned at 2021-01-15 tells what was due on that day. ``app.notifications``
loads the rows, asks these functions, and sends what they return.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.domain.quarters import Quarter

# Kinds of reminder, in the order a digest shows them, with their labels.
KINDS: dict[str, str] = {
    "review": "Threat reviews due or overdue",
    "acceptance": "Risk acceptances expiring or expired",
    "slipping": "Countermeasures slipping this quarter",
    "departure": "Departures that leave a production system a SPOF or uncovered",
    "kr_status": "Key results without a status after their quarter",
    "candidate": "New threat-intelligence feed candidates",
}

# Days ahead each rule looks (admin settings override them).
DEFAULT_DAYS: dict[str, int] = {
    "review": 7,
    "acceptance": 14,
    "slipping": 14,
    "departure": 30,
    "kr_status": 0,
}
MAX_DAYS = 365

CADENCES = {"daily": "Daily", "weekly": "Weekly", "off": "Off"}
# An unchanged reminder is told again after this many days (a review still overdue
# after a week is in the next weekly digest, not in every run).
REPEAT_AFTER_DAYS = 7
# Kinds told once: a new feed candidate is news, not a standing duty.
TOLD_ONCE = frozenset({"candidate"})

# STIX 2.1 confidence scale (appendix A, "None / Low / Med / High").
CONFIDENCE_LEVELS = {"any": "Any confidence", "low": "Low", "medium": "Medium", "high": "High"}
_CONFIDENCE_FLOOR = {"any": None, "low": 1, "medium": 30, "high": 70}


@dataclass(frozen=True)
class Event:
    """One thing worth telling: who to tell, what, a link, and what makes it "changed"."""

    key: str
    kind: str
    title: str
    detail: str
    path: str
    state: tuple[object, ...]
    user_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def fingerprint(self) -> str:
        text = json.dumps([self.kind, list(map(str, self.state))], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def days_setting(values: Mapping[str, object] | None) -> dict[str, int]:
    """The days per rule, defaults filled in and bad values refused back to the default."""
    days = dict(DEFAULT_DAYS)
    for kind, value in (values or {}).items():
        if kind in days and isinstance(value, int) and 0 <= value <= MAX_DAYS:
            days[kind] = value
    return days


# ------------------------------------------------------------------------ the rules


def _nearing(day: date | None, today: date, days: int, passed: str, near: str) -> str | None:
    """``passed`` once ``day`` is behind ``today``, ``near`` within ``days`` of it, else None."""
    if day is None:
        return None
    if day < today:
        return passed
    if day <= today + timedelta(days=days):
        return near
    return None


def review_state(next_review_on: date | None, today: date, days: int) -> str | None:
    """ "overdue" once the review date has passed, "due" within ``days``, else None."""
    return _nearing(next_review_on, today, days, "overdue", "due")


def acceptance_state(expires_on: date | None, today: date, days: int) -> str | None:
    """ "expired" once the acceptance's end has passed, "expiring" within ``days``, else None."""
    return _nearing(expires_on, today, days, "expired", "expiring")


def slipping_window(current: Quarter, today: date, days: int) -> bool:
    """The current quarter's end is ``days`` away or nearer: what it still holds undeployed
    (the quarter page's "slipped" rule, ``countermeasures.figures.slipped_where``) is slipping."""
    return current.first_day <= today and today >= current.last_day - timedelta(days=days)


def leaving_soon(left_on: date | None, today: date, days: int) -> bool:
    """A last working day from today to ``days`` ahead."""
    return left_on is not None and today <= left_on <= today + timedelta(days=days)


def kr_status_missing(quarter: Quarter, has_status: bool, today: date, days: int = 0) -> bool:
    """A quarter that ended (``days`` ago or more) with no status written for the key result."""
    return not has_status and today > quarter.last_day + timedelta(days=days)


def confidence_passes(confidence: int | None, level: str) -> bool:
    """A candidate's STIX confidence (0-100, or None) at or above the chosen level."""
    floor = _CONFIDENCE_FLOOR.get(level)
    if floor is None:
        return True
    return confidence is not None and confidence >= floor


# ------------------------------------------------------------------ what to send


@dataclass(frozen=True)
class Told:
    """What was last sent to one recipient about one event."""

    fingerprint: str
    sent_on: date


def should_tell(event: Event, told: Told | None, today: date) -> bool:
    """New, changed, or unchanged but last told a week ago or more (standing duties only)."""
    if told is None or told.fingerprint != event.fingerprint:
        return True
    if event.kind in TOLD_ONCE:
        return False
    return (today - told.sent_on).days >= REPEAT_AFTER_DAYS


def digest_due(cadence: str, last_digest_on: date | None, today: date) -> bool:
    """Daily: any run; weekly: a week after the last digest; off: never."""
    if cadence == "off":
        return False
    if cadence == "weekly" and last_digest_on is not None:
        return (today - last_digest_on).days >= REPEAT_AFTER_DAYS
    return True


def group_by_kind(events: Iterable[Event]) -> list[tuple[str, list[Event]]]:
    """Events grouped in the digest's order of kinds, each group in the given order."""
    groups: dict[str, list[Event]] = {kind: [] for kind in KINDS}
    for event in events:
        groups[event.kind].append(event)
    return [(kind, items) for kind, items in groups.items() if items]
