"""New and edit: the threat form, with the scores a scoring method derives."""

from __future__ import annotations

import enum

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField

from app import fiscal
from app.domain.scoring_methods import Method, inputs_for_reading
from app.extensions import db
from app.models.threats import Threat, ThreatFeed
from app.models.user import Role
from app.security import roles
from app.threats import bp
from app.threats.checks import APPROVER_ROLES, _current_values, assess_inputs
from app.threats.forms import ThreatForm
from app.threats.inputs import SCORE_FIELDS
from app.threats.risk import risk_matrix
from app.threats.service import create_threat, update_threat
from app.threats.views.common import FACTOR_NAMES, _choices, _warn_published
from app.validation import saved_or_shown


def _prepare_form(form: ThreatForm, threat: Threat | None) -> None:
    categories, users, systems = _choices()
    matrix = risk_matrix()
    form.category_id.choices = [("", "—")] + [
        (str(c.id), c.name)
        for c in categories
        if c.active or (threat is not None and threat.category_id == c.id)
    ]
    feeds = db.session.execute(select(ThreatFeed.id, ThreatFeed.name).order_by(ThreatFeed.name))
    form.feed_id.choices = [("", "—")] + [(str(i), n) for i, n in feeds]
    form.owner_id.choices = [("", "Nobody yet")] + [
        (str(u.id), u.name)
        for u in users
        if u.is_active_account or (threat is not None and threat.owner_id == u.id)
    ]
    form.acceptance_approver_id.choices = [("", "—")] + [
        (str(u.id), f"{u.name} ({u.role.label})")
        for u in users
        if u.role in APPROVER_ROLES and u.is_active_account
    ]
    form.system_ids.choices = [(str(s.id), s.name) for s in systems]
    likelihoods = [
        (str(n), f"{n} · {label}") for n, label in enumerate(matrix.likelihood_labels, 1)
    ]
    impacts = [(str(n), f"{n} · {label}") for n, label in enumerate(matrix.impact_labels, 1)]
    form.inherent_likelihood.choices = likelihoods
    form.residual_likelihood.choices = likelihoods
    form.inherent_impact.choices = impacts
    form.residual_impact.choices = impacts


def _fill_form(form: ThreatForm, threat: Threat) -> None:
    for name, value in _current_values(threat).items():
        if name in form and name not in ("scoring_method", "system_ids", "tags"):
            form[name].data = _shown(value, form[name])
    form.system_ids.data = [str(s.id) for s in threat.systems]
    form.tags.data = ", ".join(t.name for t in threat.tags)
    form.fill_method(
        threat.scoring_method,
        inputs_for_reading(Method(threat.scoring_method), threat.scoring_inputs),
    )
    form.version.data = str(threat.version)


def _shown(value, field):
    """A stored value as the form's field holds it: a choice as its text ("" for none)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(field, SelectField):
        return "" if value is None else str(value)
    return value


@bp.route("/threats/new", methods=["GET", "POST"])
@roles(Role.SECURITY)
def new():
    form = ThreatForm()
    _prepare_form(form, None)
    if request.method == "GET":
        form.identified_on.data = fiscal.today()
        form.owner_id.data = str(current_user.id)
        for name in SCORE_FIELDS:
            getattr(form, name).data = "3"
    derived = _derived(form)
    if derived is None and form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            threat = create_threat(author_id=current_user.id, **form.values())
        if outcome.saved:
            flash(f"Threat “{threat.title}” logged.", "success")
            return redirect(url_for("threats.detail", threat_id=threat.id))
    return render_template(
        "threats/form.html",
        form=form,
        threat=None,
        matrix=risk_matrix(),
        derived=derived,
        **FACTOR_NAMES,
    )


def _derived(form: ThreatForm):
    """ "Work out the cell" pressed: what the method makes of the inputs, nothing saved.

    Returns the assessment, or "" when the inputs are refused (the message is then beside
    the field); None when the button was not pressed.
    """
    if request.method != "POST" or not form.derive.data or not form.validate_method_only():
        return None
    assessment = None
    with saved_or_shown(form) as outcome:  # nothing is written: a refusal is shown
        assessment = assess_inputs(form.method.value, form.method_inputs())
    if not outcome.saved:
        return ""
    if assessment is not None:
        form.inherent_likelihood.data = str(assessment.likelihood)
        form.inherent_impact.data = str(assessment.impact)
    return assessment or ""


def _version(form: ThreatForm) -> int | None:
    """The version of the threat the form was read from (None: not given)."""
    version = form.version.data
    return int(version) if version and version.isdigit() else None


@bp.route("/threats/<int:threat_id>/edit", methods=["GET", "POST"])
@roles(Role.SECURITY)
def edit(threat_id: int):
    threat = db.get_or_404(Threat, threat_id)
    if threat.archived_at is not None:
        flash("Restore this threat before editing it.", "warning")
        return redirect(url_for("threats.detail", threat_id=threat.id))
    form = ThreatForm()
    _prepare_form(form, threat)
    if request.method == "GET":
        _fill_form(form, threat)
        form.scored_on.data = fiscal.today()
        form.status_changed_on.data = fiscal.today()
    conflict = None
    derived = _derived(form)
    if derived is None and form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            update_threat(
                threat, author_id=current_user.id, version=_version(form), **form.values()
            )
        if outcome.saved:
            flash("Threat saved.", "success")
            _warn_published(form.status_changed_on.data, form.scored_on.data)
            return redirect(url_for("threats.detail", threat_id=threat.id))
        conflict = outcome.conflict
        if conflict:
            form.form_errors.remove(conflict)  # shown above the form, as a warning
    status = 409 if conflict else 200
    return (
        render_template(
            "threats/form.html",
            form=form,
            threat=threat,
            matrix=risk_matrix(),
            conflict=conflict,
            derived=derived,
            **FACTOR_NAMES,
        ),
        status,
    )
