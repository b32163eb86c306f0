"""Rules of a threat's dated history (pure: plain values in, plain values out).

A threat's status, archival, treatment and next review are dated snapshots, each in
force from its date until the next one (``app.models.threats.ThreatStateChange``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

__all__ = ["day_of", "initial_states", "refusal_for_date"]


def day_of(moment: datetime | None) -> date | None:
    """The UTC day of a timestamp (naive ones are taken as UTC), or None."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def initial_states(identified_on: date, archived_on: date | None) -> list[dict[str, object]]:
    """The state rows a threat recorded before dated history gets: dates and archival.

    Its current status, treatment and next review are taken to hold since it was
    identified (no figure of the register moves), and its archival from the day it was
    archived, as the register already read it. Each dict has ``changed_on``,
    ``superseded_on`` and ``archived``; the caller adds the rest of the state.
    """
    if archived_on is None:
        return [{"changed_on": identified_on, "superseded_on": None, "archived": False}]
    if archived_on <= identified_on:
        return [{"changed_on": identified_on, "superseded_on": None, "archived": True}]
    return [
        {"changed_on": identified_on, "superseded_on": archived_on, "archived": False},
        {"changed_on": archived_on, "superseded_on": None, "archived": True},
    ]


def refusal_for_date(on: date, today: date, last_fact: date | None, what: str) -> str | None:
    """Why a change dated ``on`` cannot be recorded, or None.

    Not in the future, and not before the threat's latest dated fact (history is
    recorded in date order, so a later fact is never rewritten behind its back).
    """
    if on > today:
        return f"The {what} cannot be dated in the future."
    if last_fact is not None and on < last_fact:
        return (
            f"The {what} cannot be dated before the threat's last recorded change "
            f"({last_fact.isoformat()})."
        )
    return None
