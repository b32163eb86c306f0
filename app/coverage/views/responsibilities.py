"""The responsibility pages: add, edit and delete who is responsible for a system."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for

from app import fiscal
from app.admin.corrections import confirm_and_delete
from app.coverage import bp
from app.coverage.forms import ResponsibilityForm
from app.coverage.responsibilities import (
    add_responsibility,
    remove_responsibility,
    update_responsibility,
)
from app.coverage.views.common import (
    day_after,
    edit_form,
    staff_choices,
    system_choices,
    version_of,
    warn_if_published,
)
from app.extensions import db
from app.models.systems import Responsibility, ResponsibilityKind
from app.models.user import Role
from app.reports.corrections import earliest
from app.security import roles
from app.validation import saved_or_shown


@bp.route("/responsibilities/new", methods=["GET", "POST"])
@roles(Role.MANAGER)
def new_responsibility():
    form = ResponsibilityForm()
    form.staff_member_id.choices = staff_choices("— choose a person —")
    form.system_id.choices = system_choices("— choose a system —")
    if request.method == "GET":
        form.staff_member_id.data = request.args.get("staff_member_id", type=int)
        form.system_id.data = request.args.get("system_id", type=int)
        form.since.data = fiscal.today()
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            responsibility = add_responsibility(
                staff_member_id=form.staff_member_id.data,
                system_id=form.system_id.data,
                kind=ResponsibilityKind[form.kind.data],
                since=form.since.data,
                until=form.until.data,
            )
        if outcome.saved:
            flash(
                f"{responsibility.staff_member.name} is responsible for "
                f"{responsibility.system.name} from {responsibility.since.isoformat()}.",
                "success",
            )
            warn_if_published(responsibility.since)
            return redirect(_back_to(responsibility))
    return render_template("coverage/responsibility_form.html", form=form, responsibility=None)


def _back_to(responsibility: Responsibility) -> str:
    if request.args.get("back") == "staff":
        return url_for("coverage.staff_detail", staff_id=responsibility.staff_member_id)
    return url_for("coverage.system_detail", system_id=responsibility.system_id)


@bp.route("/responsibilities/<int:responsibility_id>/edit", methods=["GET", "POST"])
@roles(Role.MANAGER)
def edit_responsibility(responsibility_id: int):
    responsibility = db.get_or_404(Responsibility, responsibility_id)
    form = edit_form(ResponsibilityForm, responsibility, kind=responsibility.kind.name)
    impact: object | None = None
    status = 200
    if form.validate_on_submit():
        before = (responsibility.since, responsibility.until)
        with saved_or_shown(form) as outcome:
            update_responsibility(
                responsibility,
                version=version_of(form),
                kind=ResponsibilityKind[form.kind.data],
                since=form.since.data,
                until=form.until.data,
                confirm_impact=form.confirm_impact.data,
            )
        impact, status = outcome.impact, outcome.status
        if outcome.saved:
            flash("Responsibility saved.", "success")
            changed: list[date | None] = []
            if responsibility.since != before[0]:
                changed += [before[0], responsibility.since]
            if responsibility.until != before[1]:
                changed += [day_after(before[1]), day_after(responsibility.until)]
            warn_if_published(earliest(*changed))
            return redirect(_back_to(responsibility))
    # Read again: a refused change was rolled back.
    responsibility = db.get_or_404(Responsibility, responsibility_id)
    return (
        render_template(
            "coverage/responsibility_form.html",
            form=form,
            responsibility=responsibility,
            impact=impact,
        ),
        status,
    )


@bp.route("/responsibilities/<int:responsibility_id>/delete", methods=["GET", "POST"])
@roles(Role.ADMIN)
def delete_responsibility(responsibility_id: int):
    responsibility = db.get_or_404(Responsibility, responsibility_id)
    held = responsibility.since.isoformat() + (
        f" to {responsibility.until.isoformat()}" if responsibility.until else " (still held)"
    )
    fact = [
        ("Staff member", responsibility.staff_member.name),
        ("System", responsibility.system.name),
        ("Kind", responsibility.kind.label),
        ("Held", held),
    ]
    back = _back_to(responsibility)
    return confirm_and_delete(
        fact=fact,
        effective_on=responsibility.since,
        remove=lambda: remove_responsibility(responsibility, version=None),
        done="The responsibility is deleted.",
        back_url=back,
        back_label=responsibility.system.name,
        everyday="end it with its last day on the responsibility's edit page",
    )


# Positions.
