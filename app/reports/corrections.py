"""Which published quarter reports a change dated in the past makes differ.

A change that takes effect on day E moves only figures as of E or later, so it makes a
published report differ when the quarter it reports ends on or after E. Recording such a
change is allowed (it is a correction); the form says which reports it touches, and the
reports page keeps showing "live now vs published".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app import fiscal
from app.extensions import db
from app.models.okrs import Objective
from app.models.reports import ReportPublication


def published_reports_affected(effective_on: date | None) -> list[str]:
    """'Front Line Defenses FY20-21 Q2' for each current publication whose quarter ends on
    or after ``effective_on`` (None: nothing), in quarter order."""
    return [f"{r.objective} {r.quarter}" for r in affected_reports(effective_on)]


def correction_warning(effective_on: date | None) -> str | None:
    """The warning a form shows after saving a change dated inside a published quarter."""
    reports = published_reports_affected(effective_on)
    if not reports or effective_on is None:
        return None
    names = ", ".join(reports)
    noun = "report" if len(reports) == 1 else "reports"
    return (
        f"This change takes effect on {effective_on.isoformat()}, inside published quarters: "
        f"the published {noun} {names} now differ from the live figures (the reports page "
        "shows live now vs published)."
    )


def earliest(*days: date | None) -> date | None:
    """The first of the days given (None ignored): the day a change starts to matter."""
    known = [d for d in days if d is not None]
    return min(known) if known else None


# ---- the day a pending change takes effect, read from what it writes -----------------------
#
# The API answers every write with the published reports it makes differ. Rather than each
# endpoint restating which of its dates matter, the dated facts say it themselves: a new or
# removed fact counts from its own day, an edited date from the earlier of its old and new
# value (the day after, for a last day). Collected at each flush of the session.

_FACT_DAY: dict[str, str] = {
    "ThreatScoreChange": "changed_on",
    "ThreatStateChange": "changed_on",
    "CountermeasureStatusChange": "changed_on",
    "CountermeasureTargetPeriod": "valid_from",
    "SystemProductionChange": "changed_on",
    "SystemCriticalityChange": "changed_on",
    "PositionStatusChange": "changed_on",
    "Position": "opened_on",
    "Responsibility": "since",
    "Countermeasure": "planned_on",
}
# Dates that can be edited in place: (attribute, a last day: the change counts from the next).
_EDITED_DAYS: dict[str, tuple[tuple[str, bool], ...]] = {
    "System": (("retired_on", False),),
    "StaffMember": (("left_on", True),),
    "Responsibility": (("since", False), ("until", True)),
    "Countermeasure": (("planned_on", False),),
    "CountermeasureTargetPeriod": (("valid_until", False),),
}
_DAYS_KEY = "effective_days"


def _edited_days(obj: object) -> list[date]:
    from sqlalchemy import inspect

    days: list[date] = []
    state = inspect(obj, raiseerr=True)
    for key, last_day in _EDITED_DAYS.get(type(obj).__name__, ()):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        for value in [*history.deleted, *history.added]:
            if isinstance(value, date):
                days.append(value + timedelta(days=1) if last_day else value)
    return days


@event.listens_for(Session, "after_flush")
def _collect_effective_days(session: Session, flush_context: object) -> None:
    days: list[date] = []
    for obj in [*session.new, *session.deleted]:
        key = _FACT_DAY.get(type(obj).__name__)
        value = getattr(obj, key, None) if key else None
        if isinstance(value, date):
            days.append(value)
    for obj in session.dirty:
        days += _edited_days(obj)
    if days:
        session.info.setdefault(_DAYS_KEY, []).extend(days)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_effective_days(session: Session, *args: object) -> None:
    session.info.pop(_DAYS_KEY, None)


def pending_effective_day(session: Session) -> date | None:
    """The first day the session's changes (flushed now) move a figure, or None."""
    session.flush()
    return earliest(*session.info.get(_DAYS_KEY, []))


@dataclass(frozen=True)
class AffectedReport:
    """A published report a change makes differ, as the API names it."""

    objective: str
    quarter: str
    published_on: date
    message: str


def affected_reports(effective_on: date | None) -> list[AffectedReport]:
    """Each current publication whose quarter ends on or after ``effective_on``."""
    if effective_on is None:
        return []
    rows = db.session.execute(
        select(Objective.title, ReportPublication.quarter_start, ReportPublication.published_at)
        .join(Objective, Objective.id == ReportPublication.objective_id)
        .where(ReportPublication.superseded_by_id.is_(None))
        .order_by(ReportPublication.quarter_start, Objective.title)
    ).all()
    found = []
    for title, start, published_at in rows:
        quarter = fiscal.quarter_starting(start)
        if quarter.last_day >= effective_on:
            found.append(
                AffectedReport(
                    objective=title,
                    quarter=quarter.label,
                    published_on=published_at.date(),
                    message=(
                        f"This change takes effect on {effective_on.isoformat()}: the published "
                        f"report {title} {quarter.label} now differs from the live figures."
                    ),
                )
            )
    return found
