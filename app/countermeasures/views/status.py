"""A countermeasure's status pages: a change of status, deployment (with the residual
scores of the threats it treats) and verification."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app import fiscal
from app.countermeasures import bp
from app.countermeasures.forms import StatusForm, VerifyForm, deploy_form_class
from app.countermeasures.inputs import DEPLOYMENT, STATUS_CHANGE, VERIFICATION, form_values
from app.countermeasures.status import change_status, deploy_countermeasure, verify_countermeasure
from app.countermeasures.views.register import (
    load_countermeasure,
    render_detail,
    user_choices,
    warn_if_published,
)
from app.models.countermeasures import Countermeasure, CountermeasureStatus
from app.models.user import Role
from app.security import roles
from app.threats.risk import risk_matrix
from app.validation import saved_or_shown


def _step_saved(
    countermeasure: Countermeasure,
    form,
    step: Callable[..., object],
    values: dict,
    done: Callable[[], None],
    field_of: Callable[[str], str] | None = None,
) -> ResponseReturnValue | None:
    """Take the step with the posted form's values: back to the countermeasure's page once
    saved (``done`` says what changed) or when someone else's change came first; None to
    show the form (again, with its refusals)."""
    if not form.validate_on_submit():
        return None
    with saved_or_shown(form, field_of=field_of) as outcome:
        step(countermeasure, **values, version=form.version.data)
    if outcome.conflict:
        flash(outcome.conflict, "danger")
    elif outcome.saved:
        done()
    else:
        return None
    return redirect(url_for("countermeasures.detail", countermeasure_id=countermeasure.id))


def _status_changed(countermeasure: Countermeasure, form: StatusForm) -> None:
    flash(f"Status changed to {countermeasure.status.label.lower()}.", "success")
    warn_if_published(form.changed_on.data)


@bp.route("/countermeasures/<int:countermeasure_id>/status", methods=["POST"])
@roles(Role.SECURITY)
def status(countermeasure_id: int):
    countermeasure = load_countermeasure(countermeasure_id)
    form = StatusForm()
    values = {**form_values(form, STATUS_CHANGE), "user_id": current_user.id}
    saved = _step_saved(
        countermeasure, form, change_status, values, lambda: _status_changed(countermeasure, form)
    )
    if saved is not None:
        return saved
    return render_detail(load_countermeasure(countermeasure_id), form, 422)


def _deploy_field(key: str) -> str:
    """The deploy form shows a threat's refused residual score beside its impact."""
    if key.startswith("residual_"):
        return f"impact_{key.removeprefix('residual_')}"
    return key


def _deployed(countermeasure: Countermeasure) -> None:
    deployed_on = countermeasure.deployed_on
    assert deployed_on is not None  # saved: deployed that day
    quarter = fiscal.quarter_of_date(deployed_on)
    flash(f"Deployed on {deployed_on.isoformat()}: it counts in {quarter.label}.", "success")
    warn_if_published(deployed_on)


@bp.route("/countermeasures/<int:countermeasure_id>/deploy", methods=["GET", "POST"])
@roles(Role.SECURITY)
def deploy(countermeasure_id: int):
    countermeasure = load_countermeasure(countermeasure_id)
    if countermeasure.status not in (
        CountermeasureStatus.PLANNED,
        CountermeasureStatus.IN_PROGRESS,
    ):
        flash(f"This countermeasure is already {countermeasure.status.label.lower()}.", "warning")
        return redirect(url_for("countermeasures.detail", countermeasure_id=countermeasure_id))
    matrix = risk_matrix()
    threats = list(countermeasure.threats)
    form = deploy_form_class(threats, matrix)()
    if request.method == "GET":
        form.deployed_on.data = fiscal.today()
        form.evidence.data = countermeasure.evidence
        form.version.data = str(countermeasure.version)
        for threat in threats:
            form[f"likelihood_{threat.id}"].data = threat.residual_likelihood
            form[f"impact_{threat.id}"].data = threat.residual_impact
    values = {
        **form_values(form, DEPLOYMENT),
        "residuals": {
            threat.id: (form[f"likelihood_{threat.id}"].data, form[f"impact_{threat.id}"].data)
            for threat in threats
        },
        "user_id": current_user.id,
    }
    saved = _step_saved(
        countermeasure,
        form,
        deploy_countermeasure,
        values,
        lambda: _deployed(countermeasure),
        field_of=_deploy_field,
    )
    if saved is not None:
        return saved
    return render_template(
        "countermeasures/deploy.html",
        form=form,
        cm=load_countermeasure(countermeasure_id) if form.errors else countermeasure,
        threats=threats,
        matrix=matrix,
    )


@bp.route("/countermeasures/<int:countermeasure_id>/verify", methods=["GET", "POST"])
@roles(Role.SECURITY)
def verify(countermeasure_id: int):
    countermeasure = load_countermeasure(countermeasure_id)
    if countermeasure.deployed_on is None:
        flash("Only a deployed countermeasure can be verified.", "warning")
        return redirect(url_for("countermeasures.detail", countermeasure_id=countermeasure_id))
    form = VerifyForm()
    form.verified_by_id.choices = [(str(u.id), u.name) for u in user_choices()]
    if request.method == "GET":
        form.verified_on.data = countermeasure.verified_on or fiscal.today()
        form.verified_by_id.data = str(countermeasure.verified_by_id or current_user.id)
        if countermeasure.effectiveness:
            form.effectiveness.data = countermeasure.effectiveness.name
        form.version.data = str(countermeasure.version)
    saved = _step_saved(
        countermeasure,
        form,
        verify_countermeasure,
        form_values(form, VERIFICATION),
        lambda: flash("Verification recorded.", "success"),
    )
    if saved is not None:
        return saved
    return render_template("countermeasures/verify.html", form=form, cm=countermeasure)
