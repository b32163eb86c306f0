"""Archive, restore and review a threat, each dated."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user

from app.extensions import db
from app.models.threats import Threat
from app.models.user import Role
from app.security import roles
from app.threats import bp
from app.threats.archive import archive_threat, restore_threat
from app.threats.forms import DatedActionForm, ReviewForm
from app.threats.states import review_threat
from app.threats.views.common import _warn_published
from app.validation import SaveOutcome, saved_or_shown


def _flash_refusal(outcome: SaveOutcome) -> None:
    """Why a dated action was not saved, flashed above the threat's page."""
    refusal = outcome.refusal
    if refusal is not None:
        flash(" ".join(refusal.errors.values()) or str(refusal), "danger")
    elif outcome.conflict:
        flash(outcome.conflict, "danger")


def _act(threat_id: int, action, done: str, target: str = "detail"):
    threat = db.get_or_404(Threat, threat_id)
    title = threat.title
    form = DatedActionForm()
    form.validate()
    on = form.on.data
    if form.on.errors:
        flash("Give the date as YYYY-MM-DD.", "danger")
        return redirect(url_for("threats.detail", threat_id=threat_id))
    with saved_or_shown(form) as outcome:
        action(threat, current_user.id, on=on)
    if not outcome.saved:
        _flash_refusal(outcome)
        return redirect(url_for("threats.detail", threat_id=threat_id))
    flash(done.format(title=title), "success")
    _warn_published(on)
    if target == "index":
        return redirect(url_for("threats.index"))
    return redirect(url_for("threats.detail", threat_id=threat_id))


@bp.route("/threats/<int:threat_id>/archive", methods=["POST"])
@roles(Role.SECURITY)
def archive(threat_id: int):
    return _act(
        threat_id,
        archive_threat,
        "“{title}” archived: it has left the register (restore it from the archived list).",
        "index",
    )


@bp.route("/threats/<int:threat_id>/restore", methods=["POST"])
@roles(Role.SECURITY)
def restore(threat_id: int):
    return _act(threat_id, restore_threat, "“{title}” is back on the register.")


@bp.route("/threats/<int:threat_id>/review", methods=["POST"])
@roles(Role.SECURITY)
def review(threat_id: int):
    threat = db.get_or_404(Threat, threat_id)
    form = ReviewForm()
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            review_threat(
                threat,
                current_user.id,
                on=form.reviewed_on.data,
                outcome=form.outcome.data or "",
                next_review_on=form.next_review_on.data,
            )
        if outcome.saved:
            next_on = threat.next_review_on
            flash(
                f"Review recorded; next review {next_on.isoformat()}."
                if next_on
                else "Review recorded.",
                "success",
            )
            _warn_published(form.reviewed_on.data)
        else:
            _flash_refusal(outcome)
    else:
        for name, errors in form.errors.items():
            flash(f"{getattr(form, name).label.text}: {errors[0]}", "danger")
    return redirect(url_for("threats.detail", threat_id=threat_id))


# Corrections: an administrator deletes a fact that was never true. Everyday changes are
# dated entries instead (edit, archive, review), which keep the history whole.
