"""Pages for systems, staff, responsibilities, SPOF coverage and SPOF hiring positions."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import fiscal
from app.admin.corrections import confirm_and_delete
from app.coverage import bp, figures, queries
from app.coverage.forms import (
    GoalForm,
    PositionForm,
    PositionStatusForm,
    ResponsibilityForm,
    StaffForm,
    SystemForm,
)
from app.coverage.positions import (
    change_position_status,
    create_position,
    next_position_status,
    set_spof_positions_goal,
    update_position,
)
from app.coverage.responsibilities import (
    add_responsibility,
    remove_responsibility,
    update_responsibility,
)
from app.coverage.staff import (
    create_staff_member,
    departure_preview,
    ownership_of,
    update_staff_member,
)
from app.coverage.systems import create_system, update_system
from app.domain.coverage import CoverageState
from app.domain.quarters import QuarterError, quarters_of_fiscal_year
from app.extensions import db
from app.models.audit import AuditEntry, audit_trail
from app.models.systems import (
    Criticality,
    Position,
    PositionStatus,
    Responsibility,
    ResponsibilityKind,
    StaffMember,
    System,
)
from app.models.threats import Threat, threat_systems
from app.models.user import Role, User
from app.okrs.figures import kr_codes_for_metrics
from app.reports.corrections import correction_warning, earliest
from app.security import readable, roles
from app.validation import saved_or_shown

PER_PAGE = 25
LIST_LIMIT = 200  # people or systems listed in full on the coverage page
STATES = {state.value: state.label for state in CoverageState}


# Helpers.


def _as_of_from_args() -> tuple[date, str | None]:
    """The ``date`` query argument or today; a readable error for an impossible date."""
    return queries.as_of_from(request.args)


def _history(entity_type: str, entity_id: int, limit: int = 20) -> list[AuditEntry]:
    return audit_trail(entity_type, [entity_id], limit)


def _version(form) -> int | None:
    try:
        return int(form.version.data) if form.version.data else None
    except ValueError:
        return None


def _warn_if_published(day) -> None:
    """After saving: name the published reports a change effective on ``day`` makes differ."""
    message = correction_warning(day)
    if message:
        flash(message, "warning")


def _day_after(day):
    return day + timedelta(days=1) if day else None


def _teams(model) -> list[str]:
    return list(
        db.session.scalars(
            select(model.team).where(model.team != "").distinct().order_by(model.team)
        )
    )


def _staff_choices(include_blank: str | None = None) -> list[tuple]:
    rows = db.session.execute(
        select(StaffMember.id, StaffMember.name, StaffMember.team).order_by(StaffMember.name)
    )
    choices = [(r.id, f"{r.name} ({r.team})" if r.team else r.name) for r in rows]
    return ([("", include_blank)] if include_blank else []) + choices


def _system_choices(include_blank: str | None = None) -> list[tuple]:
    rows = db.session.execute(select(System.id, System.name).order_by(System.name))
    choices = [(r.id, r.name) for r in rows]
    return ([("", include_blank)] if include_blank else []) + choices


# Coverage.


@bp.route("/coverage")
@readable
def coverage():
    today = fiscal.today()
    quarter = None
    error = None
    as_of = today
    try:
        picked = fiscal.parse_date_or_none(request.args.get("date"))
        if picked is not None:
            as_of = picked
        elif request.args.get("quarter"):
            quarter = fiscal.quarter_or_none(request.args["quarter"])
            as_of = quarter.last_day
    except (ValueError, QuarterError) as exc:
        error = str(exc)
    current_fy = fiscal.quarter_of_date(today).fiscal_year
    quarter_options = quarters_of_fiscal_year(current_fy - 1, fiscal.start_month())
    quarter_options += quarters_of_fiscal_year(current_fy, fiscal.start_month())
    if error:
        return (
            render_template(
                "coverage/coverage.html",
                error=error,
                quarter=None,
                as_of=None,
                today=today,
                quarter_options=quarter_options,
            ),
            400,
        )
    fy = fiscal.quarter_of_date(as_of).fiscal_year
    result, trend = figures.coverage_with_trend(as_of, fy)
    hiring = figures.hiring_summary(as_of)
    krs = kr_codes_for_metrics(("spof_staff", "spof_positions_filled"), fy)
    return render_template(
        "coverage/coverage.html",
        error=None,
        coverage=result,
        quarter=quarter,
        as_of=as_of,
        today=today,
        trend=trend,
        hiring=hiring,
        quarter_options=quarter_options,
        limit=LIST_LIMIT,
        spof_krs=krs["spof_staff"],
        positions_krs=krs["spof_positions_filled"],
    )


# Systems.


@bp.route("/systems")
@readable
def systems():
    as_of, error = queries.as_of_from(request.args)
    query = queries.systems_list_query(request.args, as_of)
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    people = queries.holders_of((s.id for s in page.items), as_of)
    rows = [
        (system, people[system.id], queries.state_for(system, len(people[system.id])))
        for system in page.items
    ]
    return (
        render_template(
            "coverage/systems.html",
            page=page,
            rows=rows,
            teams=_teams(System),
            as_of=as_of,
            today=fiscal.today(),
            error=error,
            states=STATES,
            criticalities=list(Criticality),
            filtered=queries.systems_filtered(request.args),
            ignored_filters=queries.systems_ignored_filters(request.args),
        ),
        400 if error else 200,
    )


@bp.route("/systems/<int:system_id>")
@readable
def system_detail(system_id: int):
    today = fiscal.today()
    system = db.session.scalar(
        select(System).where(System.id == system_id).options(queries.counted_on(today))
    )
    if system is None:
        abort(404)
    responsibilities = db.session.scalars(
        select(Responsibility)
        .where(Responsibility.system_id == system.id)
        .options(selectinload(Responsibility.staff_member))
        .order_by(Responsibility.since.desc(), Responsibility.id.desc())
    ).all()
    holders = queries.holders_of([system.id], today)[system.id]
    positions = db.session.scalars(
        select(Position)
        .where(Position.systems.any(System.id == system.id))
        .order_by(Position.opened_on.desc())
    ).all()
    threats = db.session.scalars(
        select(Threat)
        .join(threat_systems, threat_systems.c.threat_id == Threat.id)
        .where(threat_systems.c.system_id == system.id, Threat.archived_at.is_(None))
        .order_by(Threat.residual_score.desc(), Threat.title)
    ).all()
    return render_template(
        "coverage/system_detail.html",
        system=system,
        responsibilities=responsibilities,
        holders=holders,
        state=queries.state_for(system, len(holders)),
        positions=positions,
        threats=threats,
        history=_history("System", system.id),
        today=today,
        states=STATES,
    )


def _system_values(form) -> dict:
    return {
        "name": form.name.data,
        "description": form.description.data,
        "team": form.team.data,
        "criticality": Criticality[form.criticality.data],
        "in_production": form.in_production.data,
        "retired_on": form.retired_on.data,
    }


def _system_update_values(form) -> dict:
    return {
        **_system_values(form),
        "production_changed_on": form.production_changed_on.data,
        "criticality_changed_on": form.criticality_changed_on.data,
        "user_id": current_user.id,
    }


@bp.route("/systems/new", methods=["GET", "POST"])
@roles(Role.MANAGER)
def new_system():
    form = SystemForm()
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            system = create_system(**_system_values(form))
        if outcome.saved:
            flash(f"System {system.name} created.", "success")
            return redirect(url_for("coverage.system_detail", system_id=system.id))
    return render_template(
        "coverage/system_form.html", form=form, system=None, teams=_teams(System)
    )


@bp.route("/systems/<int:system_id>/edit", methods=["GET", "POST"])
@roles(Role.MANAGER)
def edit_system(system_id: int):
    system = db.get_or_404(System, system_id)
    if request.method == "GET":
        form = SystemForm(obj=system)
        form.criticality.data = system.criticality.name
        form.version.data = str(system.version)
    else:
        form = SystemForm()
    status = 200
    if form.validate_on_submit():
        before = (system.in_production, system.retired_on, system.criticality)
        with saved_or_shown(form) as outcome:
            update_system(system, version=_version(form), **_system_update_values(form))
        status = outcome.status
        if outcome.saved:
            flash(f"System {system.name} saved.", "success")
            changed: list[date | None] = []
            if system.in_production != before[0]:
                changed.append(system.production_changes[-1].changed_on)
            if system.criticality != before[2]:
                changed.append(system.criticality_changes[-1].changed_on)
            if system.retired_on != before[1]:
                changed += [before[1], system.retired_on]
            _warn_if_published(earliest(*changed))
            return redirect(url_for("coverage.system_detail", system_id=system.id))
    return (
        render_template(
            "coverage/system_form.html", form=form, system=system, teams=_teams(System)
        ),
        status,
    )


# Staff.


@bp.route("/staff")
@readable
def staff():
    today = fiscal.today()
    query = queries.staff_list_query(request.args, today)
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    ids = [p.id for p in page.items]
    systems_now = queries.systems_of(ids, today)
    sole_counts = {}
    if ids:
        sole_sub = queries.sole_systems_subquery(today)
        sole_counts = dict(
            db.session.execute(
                select(sole_sub.c.staff_member_id, sole_sub.c.sole).where(
                    sole_sub.c.staff_member_id.in_(ids)
                )
            ).all()
        )
    return render_template(
        "coverage/staff.html",
        page=page,
        filtered=queries.staff_filtered(request.args),
        ignored_filters=queries.staff_ignored_filters(request.args),
        systems_now=systems_now,
        sole_counts=sole_counts,
        teams=_teams(StaffMember),
        today=today,
    )


@bp.route("/staff/<int:staff_id>")
@readable
def staff_detail(staff_id: int):
    person = db.get_or_404(StaffMember, staff_id)
    today = fiscal.today()
    responsibilities = db.session.scalars(
        select(Responsibility)
        .where(Responsibility.staff_member_id == person.id)
        .options(selectinload(Responsibility.system).options(queries.counted_on(today)))
        .order_by(Responsibility.since.desc(), Responsibility.id.desc())
    ).all()
    holders = queries.holders_of({r.system_id for r in responsibilities}, today)
    states = {
        r.system_id: queries.state_for(r.system, len(holders[r.system_id]))
        for r in responsibilities
    }
    present = person.left_on is None or person.left_on >= today
    preview = departure_preview(person, today) if present else None
    positions = db.session.scalars(select(Position).where(Position.hire_id == person.id)).all()
    return render_template(
        "coverage/staff_detail.html",
        person=person,
        present=present,
        responsibilities=responsibilities,
        holders=holders,
        states=states,
        preview=preview,
        ownership=ownership_of(person),
        positions=positions,
        history=_history("StaffMember", person.id),
        today=today,
    )


def _user_choices() -> list[tuple]:
    rows = db.session.execute(select(User.id, User.name, User.email).order_by(User.name))
    return [("", "— not linked —")] + [(r.id, f"{r.name} <{r.email}>") for r in rows]


def _staff_values(form) -> dict:
    return {
        "name": form.name.data,
        "email": form.email.data,
        "team": form.team.data,
        "active": form.active.data,
        "left_on": form.left_on.data,
        "user_id": form.user_id.data,
    }


@bp.route("/staff/new", methods=["GET", "POST"])
@roles(Role.MANAGER)
def new_staff():
    form = StaffForm()
    form.user_id.choices = _user_choices()
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            person = create_staff_member(**_staff_values(form))
        if outcome.saved:
            flash(f"{person.name} added.", "success")
            return redirect(url_for("coverage.staff_detail", staff_id=person.id))
    return render_template(
        "coverage/staff_form.html", form=form, person=None, teams=_teams(StaffMember)
    )


@bp.route("/staff/<int:staff_id>/edit", methods=["GET", "POST"])
@roles(Role.MANAGER)
def edit_staff(staff_id: int):
    person = db.get_or_404(StaffMember, staff_id)
    if request.method == "GET":
        form = StaffForm(obj=person)
        form.version.data = str(person.version)
    else:
        form = StaffForm()
    form.user_id.choices = _user_choices()
    impact: object | None = None
    status = 200
    if form.validate_on_submit():
        if form.preview.data:
            if form.left_on.data:
                impact = departure_preview(person, form.left_on.data)
            else:
                form.left_on.errors = [
                    *form.left_on.errors,
                    "Enter a leaving date to see its impact.",
                ]
        else:
            left_before = person.left_on
            with saved_or_shown(form) as outcome:
                update_staff_member(
                    person,
                    version=_version(form),
                    confirm_impact=form.confirm_impact.data,
                    **_staff_values(form),
                )
            impact, status = outcome.impact, outcome.status
            if outcome.saved:
                flash(f"{person.name} saved.", "success")
                if person.left_on != left_before:
                    _warn_if_published(
                        earliest(_day_after(left_before), _day_after(person.left_on))
                    )
                return redirect(url_for("coverage.staff_detail", staff_id=person.id))
    # Read again: a refused change was rolled back.
    person = db.get_or_404(StaffMember, staff_id)
    return (
        render_template(
            "coverage/staff_form.html",
            form=form,
            person=person,
            impact=impact,
            ownership=ownership_of(person),
            teams=_teams(StaffMember),
        ),
        status,
    )


# Responsibilities.


@bp.route("/responsibilities/new", methods=["GET", "POST"])
@roles(Role.MANAGER)
def new_responsibility():
    form = ResponsibilityForm()
    form.staff_member_id.choices = _staff_choices("— choose a person —")
    form.system_id.choices = _system_choices("— choose a system —")
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
            _warn_if_published(responsibility.since)
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
    if request.method == "GET":
        form = ResponsibilityForm(obj=responsibility)
        form.kind.data = responsibility.kind.name
        form.version.data = str(responsibility.version)
    else:
        form = ResponsibilityForm()
    impact: object | None = None
    status = 200
    if form.validate_on_submit():
        before = (responsibility.since, responsibility.until)
        with saved_or_shown(form) as outcome:
            update_responsibility(
                responsibility,
                version=_version(form),
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
                changed += [_day_after(before[1]), _day_after(responsibility.until)]
            _warn_if_published(earliest(*changed))
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


@bp.route("/positions")
@readable
def positions():
    as_of, error = _as_of_from_args()
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
        history=_history("Position", position.id),
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
    form.hire_id.choices = _staff_choices("— choose the hire —")
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
                version=_version(form),
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
            _warn_if_published(change.changed_on)
            return redirect(url_for("coverage.position_detail", position_id=position.id))
    # Read again: a refused change was rolled back.
    position = db.get_or_404(Position, position_id)
    return (
        render_template(
            "coverage/position_detail.html",
            position=position,
            form=form,
            users=_user_names(position),
            history=_history("Position", position.id),
        ),
        status,
    )


def _position_form_choices(form) -> None:
    form.system_ids.choices = _system_choices()


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
            position = create_position(
                title=form.title.data,
                team=form.team.data,
                system_ids=form.system_ids.data or [],
                opened_on=form.opened_on.data,
                notes=form.notes.data,
                status=PositionStatus[form.status.data],
                user_id=current_user.id,
            )
        if outcome.saved:
            flash(f"Position {position.title} opened.", "success")
            _warn_if_published(position.opened_on)
            return redirect(url_for("coverage.position_detail", position_id=position.id))
    return render_template(
        "coverage/position_form.html", form=form, position=None, teams=_teams(StaffMember)
    )


@bp.route("/positions/<int:position_id>/edit", methods=["GET", "POST"])
@roles(Role.MANAGER)
def edit_position(position_id: int):
    position = db.get_or_404(Position, position_id)
    if request.method == "GET":
        form = PositionForm(obj=position)
        form.system_ids.data = [s.id for s in position.systems]
        form.version.data = str(position.version)
    else:
        form = PositionForm()
    _position_form_choices(form)
    del form.status, form.opened_on
    status = 200
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            update_position(
                position,
                version=_version(form),
                title=form.title.data,
                team=form.team.data,
                system_ids=form.system_ids.data or [],
                notes=form.notes.data,
            )
        status = outcome.status
        if outcome.saved:
            flash(f"Position {position.title} saved.", "success")
            return redirect(url_for("coverage.position_detail", position_id=position.id))
    return (
        render_template(
            "coverage/position_form.html",
            form=form,
            position=position,
            teams=_teams(StaffMember),
        ),
        status,
    )
