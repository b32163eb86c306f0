"""The staff pages: the list, a person's page, new and edit (with the departure's impact)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from sqlalchemy import select

from app import fiscal
from app.coverage import bp, queries
from app.coverage.forms import StaffForm
from app.coverage.inputs import STAFF
from app.coverage.staff import (
    create_staff_member,
    departure_preview,
    ownership_of,
    update_staff_member,
)
from app.coverage.views.common import (
    PER_PAGE,
    FormPages,
    day_after,
    edit_form,
    history_page,
    save_confirmed,
    team_names,
    warn_if_published,
)
from app.domain.coverage import DepartureImpact
from app.extensions import db
from app.models.systems import Position, StaffMember
from app.models.user import Role, User
from app.reports.corrections import earliest
from app.security import readable, roles


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
        teams=team_names(StaffMember),
        today=today,
    )


@bp.route("/staff/<int:staff_id>")
@readable
def staff_detail(staff_id: int):
    person = db.get_or_404(StaffMember, staff_id)
    today = fiscal.today()
    present = person.left_on is None or person.left_on >= today
    return render_template(
        "coverage/staff_detail.html",
        person=person,
        present=present,
        preview=departure_preview(person, today) if present else None,
        ownership=ownership_of(person),
        positions=db.session.scalars(select(Position).where(Position.hire_id == person.id)).all(),
        history=history_page("StaffMember", person.id),
        today=today,
        **queries.responsibilities_held(person, today),
    )


def _user_choices() -> list[tuple]:
    rows = db.session.execute(select(User.id, User.name, User.email).order_by(User.name))
    return [("", "— not linked —")] + [(r.id, f"{r.name} <{r.email}>") for r in rows]


@bp.route("/staff/new", methods=["GET", "POST"])
@roles(Role.MANAGER)
def new_staff():
    form = StaffForm()
    form.user_id.choices = _user_choices()
    return PAGES.new(form, create_staff_member, STAFF, lambda person: f"{person.name} added.")


def _person_page(person: StaffMember) -> str:
    return url_for("coverage.staff_detail", staff_id=person.id)


PAGES = FormPages("coverage/staff_form.html", "person", _person_page, StaffMember)


def _previewed(form, person: StaffMember) -> DepartureImpact | None:
    """What the leaving date sent would leave uncovered (or a message beside it: none sent)."""
    if form.left_on.data:
        return departure_preview(person, form.left_on.data)
    form.left_on.errors = [*form.left_on.errors, "Enter a leaving date to see its impact."]
    return None


@bp.route("/staff/<int:staff_id>/edit", methods=["GET", "POST"])
@roles(Role.MANAGER)
def edit_staff(staff_id: int):
    person = db.get_or_404(StaffMember, staff_id)
    form = edit_form(StaffForm, person)
    form.user_id.choices = _user_choices()
    valid = form.validate_on_submit()
    left_before = person.left_on
    outcome, saved = save_confirmed(
        form,
        update_staff_member,
        person,
        STAFF,
        lambda person: f"{person.name} saved.",
        valid=valid and not form.preview.data,
    )
    if saved is not None:
        if person.left_on != left_before:
            warn_if_published(earliest(day_after(left_before), day_after(person.left_on)))
        return redirect(_person_page(person))
    impact = _previewed(form, person) if valid and form.preview.data else outcome.impact
    # Read again: a refused change was rolled back.
    person = db.get_or_404(StaffMember, staff_id)
    return PAGES.page(form, person, outcome.status, impact=impact, ownership=ownership_of(person))
