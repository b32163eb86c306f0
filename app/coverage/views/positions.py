"""The SPOF hiring pages: positions, the goal, a position's page, its status, new and edit."""

from __future__ import annotations

from dataclasses import replace

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
    FormPages,
    as_of_from_args,
    edit_form,
    form_values,
    history_page,
    staff_choices,
    system_choices,
    version_of,
    warn_if_published,
)
from app.extensions import db
from app.models.systems import Position, PositionStatus, PositionStatusChange, StaffMember
from app.models.user import Role, User
from app.security import readable, roles
from app.validation import save_submitted


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
    _, goal = save_submitted(
        form,
        lambda: set_spof_positions_goal(form.goal.data),
        lambda goal: f"Goal set to {form.goal.data} SPOF positions.",
    )
    if goal is not None:
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
    return _position_page(position, _status_form(position))


def _position_page(position: Position, form: PositionStatusForm, status: int = 200):
    """A position's page, with the form of its next status change."""
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
    valid = form.validate_on_submit()
    outcome, change = save_submitted(
        form,
        lambda: change_position_status(
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
        ),
        _status_changed,
        valid=valid,
        refused_status=400,
    )
    if change is not None:
        warn_if_published(change.changed_on)
        return redirect(_position_url(position))
    # Read again: a refused change was rolled back.
    return _position_page(
        db.get_or_404(Position, position_id), form, outcome.status if valid else 400
    )


def _status_changed(change: PositionStatusChange) -> str:
    position = change.position
    message = f"{position.title}: {change.status.label.lower()} on {change.changed_on}."
    if change.status == PositionStatus.FILLED and position.hire:
        message += f" Hire: {position.hire.name}."
    return message


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
    return OPENED.new(
        form,
        create_position,
        POSITION,
        lambda position: f"Position {position.title} opened.",
        user_id=current_user.id,
    )


def _position_url(position: Position) -> str:
    return url_for("coverage.position_detail", position_id=position.id)


def _opened(position: Position) -> str:
    warn_if_published(position.opened_on)
    return _position_url(position)


# Opening a position warns of the published reports it changes; an edit changes no figure.
PAGES = FormPages("coverage/position_form.html", "position", _position_url, StaffMember)
OPENED = replace(PAGES, landing=_opened)


@bp.route("/positions/<int:position_id>/edit", methods=["GET", "POST"])
@roles(Role.MANAGER)
def edit_position(position_id: int):
    position = db.get_or_404(Position, position_id)
    form = edit_form(PositionForm, position, system_ids=[s.id for s in position.systems])
    _position_form_choices(form)
    del form.status, form.opened_on
    outcome, saved = save_submitted(
        form,
        lambda: update_position(
            position, version=version_of(form), **form_values(form, POSITION_EDIT)
        ),
        lambda position: f"Position {position.title} saved.",
    )
    if saved is not None:
        return redirect(_position_url(position))
    return PAGES.page(form, position, outcome.status)
