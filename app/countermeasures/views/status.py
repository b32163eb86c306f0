"""A countermeasure's status pages: a change of status, deployment (with the residual
scores of the threats it treats) and verification."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import fiscal
from app.countermeasures import bp
from app.countermeasures.forms import StatusForm, VerifyForm, deploy_form_class
from app.countermeasures.status import change_status, deploy_countermeasure, verify_countermeasure
from app.countermeasures.views.register import (
    load_countermeasure,
    render_detail,
    user_choices,
    warn_if_published,
)
from app.models.countermeasures import CountermeasureStatus
from app.models.user import Role
from app.security import roles
from app.threats.risk import risk_matrix
from app.validation import saved_or_shown


@bp.route("/countermeasures/<int:countermeasure_id>/status", methods=["POST"])
@roles(Role.SECURITY)
def status(countermeasure_id: int):
    countermeasure = load_countermeasure(countermeasure_id)
    form = StatusForm()
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            change_status(
                countermeasure,
                form.status.data,
                changed_on=form.changed_on.data,
                user_id=current_user.id,
                version=form.version.data,
            )
        if outcome.conflict:
            flash(outcome.conflict, "danger")
            return redirect(url_for("countermeasures.detail", countermeasure_id=countermeasure_id))
        if outcome.saved:
            flash(f"Status changed to {countermeasure.status.label.lower()}.", "success")
            warn_if_published(form.changed_on.data)
            return redirect(url_for("countermeasures.detail", countermeasure_id=countermeasure_id))
    return render_detail(load_countermeasure(countermeasure_id), form, 422)


def _deploy_field(key: str) -> str:
    """The deploy form shows a threat's refused residual score beside its impact."""
    if key.startswith("residual_"):
        return f"impact_{key.removeprefix('residual_')}"
    return key


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
    if form.validate_on_submit():
        residuals = {
            threat.id: (form[f"likelihood_{threat.id}"].data, form[f"impact_{threat.id}"].data)
            for threat in threats
        }
        with saved_or_shown(form, field_of=_deploy_field) as outcome:
            deploy_countermeasure(
                countermeasure,
                deployed_on=form.deployed_on.data,
                residuals=residuals,
                user_id=current_user.id,
                evidence=form.evidence.data,
                version=form.version.data,
            )
        if outcome.conflict:
            flash(outcome.conflict, "danger")
            return redirect(url_for("countermeasures.detail", countermeasure_id=countermeasure_id))
        deployed_on = countermeasure.deployed_on
        if outcome.saved and deployed_on is not None:
            quarter = fiscal.quarter_of_date(deployed_on)
            flash(
                f"Deployed on {deployed_on.isoformat()}: it counts in {quarter.label}.",
                "success",
            )
            warn_if_published(deployed_on)
            return redirect(url_for("countermeasures.detail", countermeasure_id=countermeasure_id))
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
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            verify_countermeasure(
                countermeasure,
                verified_on=form.verified_on.data,
                verified_by_id=form.verified_by_id.data,
                effectiveness=form.effectiveness.data,
                version=form.version.data,
            )
        if outcome.conflict:
            flash(outcome.conflict, "danger")
            return redirect(url_for("countermeasures.detail", countermeasure_id=countermeasure_id))
        if outcome.saved:
            flash("Verification recorded.", "success")
            return redirect(url_for("countermeasures.detail", countermeasure_id=countermeasure_id))
    return render_template("countermeasures/verify.html", form=form, cm=countermeasure)
