"""The responsibility pages: add, edit and delete who is responsible for a system."""

from __future__ import annotations

from datetime import date

from flask import redirect, request, url_for

from app import fiscal
from app.admin.corrections import confirm_and_delete
from app.coverage import bp
from app.coverage.forms import ResponsibilityForm
from app.coverage.inputs import PERIOD, RESPONSIBILITY
from app.coverage.responsibilities import (
    add_responsibility,
    remove_responsibility,
    update_responsibility,
)
from app.coverage.views.common import (
    FormPages,
    day_after,
    edit_form,
    save_confirmed,
    staff_choices,
    system_choices,
    warn_if_published,
)
from app.extensions import db
from app.models.systems import Responsibility
from app.models.user import Role
from app.reports.corrections import earliest
from app.security import roles


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
    return PAGES.new(
        form,
        add_responsibility,
        RESPONSIBILITY,
        lambda responsibility: f"{responsibility.staff_member.name} is responsible for "
        f"{responsibility.system.name} from {responsibility.since.isoformat()}.",
    )


def _saved(responsibility: Responsibility) -> str:
    return "Responsibility saved."


def _added(responsibility: Responsibility) -> str:
    warn_if_published(responsibility.since)
    return _back_to(responsibility)


PAGES = FormPages("coverage/responsibility_form.html", "responsibility", _added)


def _back_to(responsibility: Responsibility) -> str:
    if request.args.get("back") == "staff":
        return url_for("coverage.staff_detail", staff_id=responsibility.staff_member_id)
    return url_for("coverage.system_detail", system_id=responsibility.system_id)


@bp.route("/responsibilities/<int:responsibility_id>/edit", methods=["GET", "POST"])
@roles(Role.MANAGER)
def edit_responsibility(responsibility_id: int):
    responsibility = db.get_or_404(Responsibility, responsibility_id)
    form = edit_form(ResponsibilityForm, responsibility, kind=responsibility.kind.name)
    before = (responsibility.since, responsibility.until)
    outcome, saved = save_confirmed(form, update_responsibility, responsibility, PERIOD, _saved)
    if saved is not None:
        changed: list[date | None] = []
        if responsibility.since != before[0]:
            changed += [before[0], responsibility.since]
        if responsibility.until != before[1]:
            changed += [day_after(before[1]), day_after(responsibility.until)]
        warn_if_published(earliest(*changed))
        return redirect(_back_to(responsibility))
    # Read again: a refused change was rolled back.
    responsibility = db.get_or_404(Responsibility, responsibility_id)
    return PAGES.page(form, responsibility, outcome.status, impact=outcome.impact)


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
