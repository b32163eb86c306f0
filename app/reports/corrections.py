"""Which published quarter reports a change dated in the past makes differ.

A change that takes effect on day E moves only figures as of E or later, so it makes a
published report differ when the quarter it reports ends on or after E. Recording such a
change is allowed (it is a correction); the form says which reports it touches, and the
reports page keeps showing "live now vs published".
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app import fiscal
from app.extensions import db
from app.models.okrs import Objective
from app.models.reports import ReportPublication


def published_reports_affected(effective_on: date | None) -> list[str]:
    """'Front Line Defenses FY20-21 Q2' for each current publication whose quarter ends on
    or after ``effective_on`` (None: nothing), in quarter order."""
    if effective_on is None:
        return []
    rows = db.session.execute(
        select(Objective.title, ReportPublication.quarter_start)
        .join(Objective, Objective.id == ReportPublication.objective_id)
        .where(ReportPublication.superseded_by_id.is_(None))
        .order_by(ReportPublication.quarter_start, Objective.title)
    ).all()
    labels = []
    for title, start in rows:
        quarter = fiscal.quarter_starting(start)
        if quarter.last_day >= effective_on:
            labels.append(f"{title} {quarter.label}")
    return labels


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
