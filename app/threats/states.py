"""A threat's dated state: reviews, and whether an acceptance or a review is due."""

from __future__ import annotations

from datetime import date

from app import fiscal
from app.domain.threat_history import refusal_for_date
from app.extensions import db
from app.inputs import Date, loaded, read_value
from app.models.threats import Threat, ThreatStatus, Treatment
from app.threats.checks import _default_review
from app.threats.inputs import ReviewInput
from app.threats.risk import StateChangeKind, last_fact_on, record_state
from app.validation import InputError


def _describe_state_change(threat: Threat, changes: dict) -> str:
    parts = []
    if "status" in changes:
        parts.append(f"Status {threat.status.label} → {changes['status'].label}")
    if "treatment" in changes:
        old = threat.treatment.label if threat.treatment else "not decided"
        new = changes["treatment"].label if changes["treatment"] else "not decided"
        parts.append(f"treatment {old} → {new}")
    if "acceptance_expires_on" in changes and changes["acceptance_expires_on"]:
        parts.append(f"acceptance expires {changes['acceptance_expires_on'].isoformat()}")
    if "next_review_on" in changes and changes["next_review_on"]:
        parts.append(f"next review {changes['next_review_on'].isoformat()}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def _dated(threat: Threat, on, field: str, what: str) -> date:
    """The date a change took effect (default today), or InputError {field: why not}."""
    day = read_value(Date(), on, field)
    today = fiscal.today()
    day = day or today
    refusal = refusal_for_date(day, today, last_fact_on(threat), what)
    if refusal is None and day < threat.identified_on:
        refusal = f"The {what} cannot be dated before the threat was identified."
    if refusal:
        raise InputError({field: refusal})
    return day


def review_threat(
    threat: Threat,
    author_id: int | None,
    *,
    on=None,
    outcome: str = "",
    next_review_on=None,
) -> Threat:
    """Record a review: who, when (``on``, default today), its outcome and the next review
    date (default: the interval of the threat's residual level from the review)."""
    if threat.archived_at is not None:
        raise InputError("Restore the threat before reviewing it.")
    clean = loaded(ReviewInput(), {"outcome": outcome, "next_review_on": next_review_on})
    text, next_day = clean["outcome"], clean["next_review_on"]
    day = _dated(threat, on, "reviewed_on", "review")
    if next_day is None:
        next_day = _default_review(day, threat.residual_score)
    elif next_day <= day:
        raise InputError({"next_review_on": "The next review must come after this one."})
    record_state(
        threat,
        day,
        StateChangeKind.REVIEW,
        author_id,
        note=text or "Reviewed",
        next_review_on=next_day,
    )
    db.session.flush()
    return threat


def acceptance_needs_decision(threat: Threat, today: date | None = None) -> bool:
    """An accepted risk whose acceptance has expired needs a decision again."""
    today = today or fiscal.today()
    return (
        threat.treatment is Treatment.ACCEPT
        and threat.acceptance_expires_on is not None
        and threat.acceptance_expires_on < today
    )


def review_overdue(threat: Threat, today: date | None = None) -> bool:
    today = today or fiscal.today()
    return (
        threat.archived_at is None
        and threat.status is not ThreatStatus.CLOSED
        and threat.next_review_on is not None
        and threat.next_review_on < today
    )
