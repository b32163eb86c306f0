"""An admin's corrections: delete a wrong assessment or state entry, purge a threat."""

from __future__ import annotations

from datetime import date

from flask import abort, url_for
from flask_login import current_user

from app.admin.corrections import confirm_and_delete
from app.extensions import db
from app.models.threats import Threat, ThreatScoreChange, ThreatStateChange
from app.models.user import Role
from app.security import roles
from app.threats import bp, risk
from app.threats.archive import purge_threat


def _correct(threat: Threat, fact, effective_on: date, remove, done: str):
    return confirm_and_delete(
        fact=fact,
        effective_on=effective_on,
        remove=remove,
        done=done,
        back_url=url_for("threats.detail", threat_id=threat.id),
        back_label=threat.title,
        everyday="re-score, archive or record a review on the threat's page",
    )


def _correct_entry(
    threat_id: int,
    model: type[ThreatScoreChange] | type[ThreatStateChange],
    entry_id: int,
    remove,
    what: str,
    details,
):
    """Delete one entry of a threat's history (404 unless it is the threat's): the page
    names the threat, the entry's ``details(entry)`` and its note."""
    threat = db.get_or_404(Threat, threat_id)
    entry: ThreatScoreChange | ThreatStateChange = db.get_or_404(model, entry_id)
    if entry.threat_id != threat.id:
        abort(404)
    fact = [("Threat", threat.title), *details(entry), ("Note", entry.note or "—")]
    return _correct(
        threat,
        fact,
        entry.changed_on,
        lambda: remove(threat, entry),
        f"The {what} of {entry.changed_on.isoformat()} is deleted.",
    )


def _assessment(change: ThreatScoreChange) -> list[tuple[str, str]]:
    return [
        ("Assessment of", change.changed_on.isoformat()),
        ("Inherent", f"{change.inherent_likelihood} × {change.inherent_impact}"),
        ("Residual", f"{change.residual_likelihood} × {change.residual_impact}"),
    ]


def _state_entry(entry: ThreatStateChange) -> list[tuple[str, str]]:
    return [
        ("Entry", f"{entry.kind.label} on {entry.changed_on.isoformat()}"),
        ("Status", entry.status.label + (" · archived" if entry.archived else "")),
        ("Next review", entry.next_review_on.isoformat() if entry.next_review_on else "—"),
    ]


@bp.route(
    "/threats/<int:threat_id>/assessments/<int:change_id>/delete",
    methods=["GET", "POST"],
)
@roles(Role.ADMIN)
def delete_assessment(threat_id: int, change_id: int):
    return _correct_entry(
        threat_id, ThreatScoreChange, change_id, risk.remove_score_change, "assessment", _assessment
    )


@bp.route("/threats/<int:threat_id>/history/<int:entry_id>/delete", methods=["GET", "POST"])
@roles(Role.ADMIN)
def delete_state_entry(threat_id: int, entry_id: int):
    return _correct_entry(
        threat_id, ThreatStateChange, entry_id, risk.remove_state_change, "entry", _state_entry
    )


@bp.route("/threats/<int:threat_id>/purge", methods=["GET", "POST"])
@roles(Role.ADMIN)
def purge(threat_id: int):
    threat = db.get_or_404(Threat, threat_id)
    title = threat.title
    days = [threat.identified_on]
    days += [c.changed_on for c in threat.score_changes]
    days += [s.changed_on for s in threat.state_changes]
    fact = [
        ("Threat", title),
        ("Identified", threat.identified_on.isoformat()),
        (
            "History",
            f"{len(threat.score_changes)} assessments, {len(threat.state_changes)} entries",
        ),
    ]

    def remove():
        purge_threat(threat, current_user.id)
        return url_for("threats.index", archived="1")

    return _correct(
        threat,
        fact,
        min(days),
        remove,
        f"“{title}” purged for good (the audit log keeps its trace).",
    )
