"""Archiving, restoring and purging a threat."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select, update

from app import fiscal
from app.extensions import db
from app.models.base import utcnow
from app.models.countermeasures import Countermeasure, countermeasure_threats
from app.models.threats import Threat, ThreatSearchTerm
from app.threats.risk import StateChangeKind, record_state
from app.threats.states import _dated
from app.validation import InputError


def _now() -> datetime:
    # The business "today" (pinned in the demo) at the current time of day.
    return datetime.combine(fiscal.today(), datetime.now(UTC).time(), UTC)


def archive_threat(threat: Threat, author_id: int | None = None, on=None) -> Threat:
    """Take a threat off the register (kept, restorable) from ``on`` (default today)."""
    if threat.archived_at is not None:
        raise InputError("This threat is already archived.")
    day = _dated(threat, on, "on", "archiving")
    today = fiscal.today()
    threat.archived_at = _now() if day == today else datetime.combine(day, datetime.min.time(), UTC)
    record_state(threat, day, StateChangeKind.ARCHIVED, author_id, note="Archived", archived=True)
    db.session.flush()
    return threat


def restore_threat(threat: Threat, author_id: int | None = None, on=None) -> Threat:
    """Put an archived threat back on the register from ``on`` (default today)."""
    if threat.archived_at is None:
        raise InputError("This threat is not archived.")
    day = _dated(threat, on, "on", "restoring")
    record_state(threat, day, StateChangeKind.RESTORED, author_id, note="Restored", archived=False)
    db.session.flush()
    return threat


def purge_threat(threat: Threat, author_id: int | None = None) -> None:
    """Delete an archived threat and its history for good (the audit log keeps the trace)."""
    if threat.archived_at is None:
        raise InputError("Archive the threat before purging it.")
    db.session.execute(delete(ThreatSearchTerm).where(ThreatSearchTerm.threat_id == threat.id))
    # The countermeasures treating it lose it from their threats: changed, for a syncing
    # client (the purge itself is kept as a deletion, app/models/deletions.py).
    treating = select(countermeasure_threats.c.countermeasure_id).where(
        countermeasure_threats.c.threat_id == threat.id
    )
    db.session.execute(
        update(Countermeasure)
        .where(Countermeasure.id.in_(treating))
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.delete(threat)
    db.session.flush()
