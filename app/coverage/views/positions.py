"""The SPOF hiring pages: positions, the goal, a position's page, its status, new and edit."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import fiscal
from app.coverage import bp, figures
from app.coverage.forms import GoalForm, PositionForm, PositionStatusForm
from app.coverage.inputs import POSITION, POSITION_EDIT
from app.coverage.positions import (
    change_position_status,
    create_position,
    next_position_status,
    set_spof_positions_goal,
    update_position,
)
from app.coverage.views.common import (
    as_of_from_args,
    edit_form,
    form_values,
    history_page,
    staff_choices,
    system_choices,
    team_names,
    version_of,
    warn_if_published,
)
from app.extensions import db
from app.models.systems import Position, PositionStatus, StaffMember
from app.models.user import Role, User
from app.security import readable, roles
from app.validation import saved_or_shown


@bp.route("/positions")
@readable
def positions():
    as_of, error = as_of_from_args()
    hiring = figures.hiring_summary(as_of)
    all_positions = db.session.scalars(
        select(Position)
        .options(selectinload(Position.systems), selectinload(Position.hire))
        .order_by(Position.opened_on, Position.id)
    ).all()
    by_status = {status: [] for status in PositionStatus}
    for position in all_positions:
        by_status[position.status].append(position)
    goal_form = GoalForm(goal=hiring["goal"])
    return (
        render_template(
            "coverage/positions.html",
            by_status=by_status,
            hiring=hiring,
            as_of=as_of,
            today=fiscal.today(),
            error=error,
            goal_form=goal_form,
        ),
        400 if error else 200,
    )


@bp.route("/positions/goal", methods=["POST"])
@roles(Role.MANAGER)
def set_goal():
    form = GoalForm()
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            set_spof_positions_goal(form.goal.data)
        if outcome.saved:
            flash(f"Goal set to {form.goal.data} SPOF positions.", "success")
            return redirect(url_for("coverage.positions"))
    # The list page holds the form: its refusal travels as a message.
    for message in form.goal.errors or form.form_errors or ["The goal was not saved."]:
        flash(f"Goal not saved: {message}", "danger")
    return redirect(url_for("coverage.positions"))


@bp.route("/positions/<int:position_id>")
@readable
def position_detail(position_id: int):
    position = db.session.scalar(
        select(Position)
        .where(Position.id == position_id)
        .options(selectinload(Position.systems), selectinload(Position.status_changes))
    )
    if position is None:
        abort(404)
    form = _status_form(position)
    return render_template(
        "coverage/position_detail.html",
        position=position,
        form=form,
        users=_user_names(position),
        history=history_page("Position", position.id),
    )


def _user_names(position: Position) -> dict[int, str]:
    ids = {c.user_id for c in position.status_changes if c.user_id}
    if not ids:
        return {}
    return dict(
        db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).tuples().all()
    )


def _status_form(position: Position, formdata=None) -> PositionStatusForm:
    form = PositionStatusForm(formdata=formdata) if formdata is not None else PositionStatusForm()
    form.hire_id.choices = staff_choices("— choose the hire —")
    # The current status is no change; after filled or cancelled nothing follows, so the
    # form offers no default rather than a step back.
    following = next_position_status(position.status)
    others = [(s.name, s.label) for s in PositionStatus if s != position.status]
    if following is None:
        others = [("", "— choose the new status —"), *others]
    form.status.choices = others
    if formdata is None:
        form.version.data = str(position.version)
        form.changed_on.data = fiscal.today()
        form.status.data = following.name if following else ""
    return form


@bp.route("/positions/<int:position_id>/status", methods=["POST"])
@roles(Role.MANAGER)
def change_status(position_id: int):
    position = db.get_or_404(Position, position_id)
    form = _status_form(position, formdata=request.form)
    status = 400
    if form.validate_on_submit():
        with saved_or_shown(form, refused_status=400) as outcome:
            change = change_position_status(
                position,
                version=version_of(form),
                status=PositionStatus[form.status.data],
                changed_on=form.changed_on.data,
                user_id=current_user.id,
                note=form.note.data,
                hire_id=form.hire_id.data,
                new_hire_name=form.new_hire_name.data,
                add_responsibilities=form.add_responsibilities.data,
                confirm_backwards=form.confirm_backwards.data,
            )
        status = outcome.status
        if outcome.saved:
            message = f"{position.title}: {change.status.label.lower()} on {change.changed_on}."
            if change.status == PositionStatus.FILLED and position.hire:
                message += f" Hire: {position.hire.name}."
            flash(message, "success")
            warn_if_published(change.changed_on)
            return redirect(url_for("coverage.position_detail", position_id=position.id))
    # Read again: a refused change was rolled back.
    position = db.get_or_404(Position, position_id)
    return (
        render_template(
            "coverage/position_detail.html",
            position=position,
            form=form,
            users=_user_names(position),
            history=history_page("Position", position.id),
        ),
        status,
    )


def _position_form_choices(form) -> None:
    form.system_ids.choices = system_choices()


@bp.route("/positions/new", methods=["GET", "POST"])
@roles(Role.MANAGER)
def new_position():
    form = PositionForm()
    _position_form_choices(form)
    if request.method == "GET":
        form.opened_on.data = fiscal.today()
        form.system_ids.data = request.args.getlist("system_id", type=int)
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            position = create_position(**form_values(form, POSITION), user_id=current_user.id)
        if outcome.saved:
            flash(f"Position {position.title} opened.", "success")
            warn_if_published(position.opened_on)
            return redirect(url_for("coverage.position_detail", position_id=position.id))
    return render_template(
        "coverage/position_form.html",
        form=form,
        position=None,
        teams=team_names(StaffMember),
    )


@bp.route("/positions/<int:position_id>/edit", methods=["GET", "POST"])
@roles(Role.MANAGER)
def edit_position(position_id: int):
    position = db.get_or_404(Position, position_id)
    form = edit_form(PositionForm, position, system_ids=[s.id for s in position.systems])
    _position_form_choices(form)
    del form.status, form.opened_on
    status = 200
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            update_position(position, version=version_of(form), **form_values(form, POSITION_EDIT))
        status = outcome.status
        if outcome.saved:
            flash(f"Position {position.title} saved.", "success")
            return redirect(url_for("coverage.position_detail", position_id=position.id))
    return (
        render_template(
            "coverage/position_form.html",
            form=form,
            position=position,
            teams=team_names(StaffMember),
        ),
        status,
    )
