"""The systems' pages: the list, a system's page, new and edit."""

from __future__ import annotations

from datetime import date

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import fiscal
from app.coverage import bp, queries
from app.coverage.forms import SystemForm
from app.coverage.inputs import DATED, NEW
from app.coverage.systems import create_system, update_system
from app.coverage.views.common import (
    PER_PAGE,
    STATES,
    FormPages,
    edit_form,
    form_values,
    history_page,
    team_names,
    version_of,
    warn_if_published,
)
from app.extensions import db
from app.models.systems import Criticality, Position, Responsibility, System
from app.models.threats import Threat, threat_systems
from app.models.user import Role
from app.reports.corrections import earliest
from app.security import readable, roles
from app.validation import save_submitted


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
            teams=team_names(System),
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
        history=history_page("System", system.id),
        today=today,
        states=STATES,
    )


def _system_update_values(form) -> dict:
    return {
        **form_values(form, NEW + DATED),
        "user_id": current_user.id,
    }


@bp.route("/systems/new", methods=["GET", "POST"])
@roles(Role.MANAGER)
def new_system():
    return PAGES.new(
        SystemForm(), create_system, NEW, lambda system: f"System {system.name} created."
    )


def _system_page(system: System) -> str:
    return url_for("coverage.system_detail", system_id=system.id)


PAGES = FormPages("coverage/system_form.html", "system", _system_page, System)


@bp.route("/systems/<int:system_id>/edit", methods=["GET", "POST"])
@roles(Role.MANAGER)
def edit_system(system_id: int):
    system = db.get_or_404(System, system_id)
    form = edit_form(SystemForm, system, criticality=system.criticality.name)
    before = (system.in_production, system.retired_on, system.criticality)
    outcome, saved = save_submitted(
        form,
        lambda: update_system(system, version=version_of(form), **_system_update_values(form)),
        lambda system: f"System {system.name} saved.",
    )
    if saved is not None:
        changed: list[date | None] = []
        if system.in_production != before[0]:
            changed.append(system.production_changes[-1].changed_on)
        if system.criticality != before[2]:
            changed.append(system.criticality_changes[-1].changed_on)
        if system.retired_on != before[1]:
            changed += [before[1], system.retired_on]
        warn_if_published(earliest(*changed))
        return redirect(_system_page(system))
    return PAGES.page(form, system, outcome.status)
