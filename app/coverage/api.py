"""The API's resources for systems, staff, responsibilities, positions and coverage,
on the api blueprints of ``app.api.resources``."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app import fiscal
from app.api import writes as w
from app.api.records import merged_update, query_read, record_action, record_detail, record_list
from app.api.resources import figures, get_or_404, page_args, refused, register
from app.coverage import figures as coverage_figures
from app.coverage import queries as coverage_queries
from app.coverage.api_schemas import (
    CoverageArgs,
    CoverageSchema,
    PositionArgs,
    PositionCreate,
    PositionPage,
    PositionSchema,
    PositionStatusCreate,
    PositionUpdate,
    ResponsibilityArgs,
    ResponsibilityCreate,
    ResponsibilityPage,
    ResponsibilitySchema,
    ResponsibilityUpdate,
    StaffArgs,
    StaffCreate,
    StaffPage,
    StaffSchema,
    StaffUpdate,
    SystemArgs,
    SystemCreate,
    SystemPage,
    SystemSchema,
    SystemUpdate,
)
from app.coverage.positions import change_position_status, create_position, update_position
from app.coverage.responsibilities import add_responsibility, update_responsibility
from app.coverage.staff import create_staff_member, update_staff_member
from app.coverage.systems import create_system, update_system
from app.models import (
    Position,
    Responsibility,
    StaffMember,
    System,
)
from app.models.user import Role

# ---- systems, staff, responsibilities, positions ------------------------------------


RESPONSIBILITY_LOADS = (
    selectinload(Responsibility.staff_member),
    selectinload(Responsibility.system),
)


def responsibilities_query(args: dict):
    query = select(Responsibility)
    for key in ("staff_member_id", "system_id", "kind"):
        if args.get(key) is not None:
            query = query.where(getattr(Responsibility, key) == args[key])
    if args.get("on"):
        on = args["on"]
        query = query.where(
            Responsibility.since <= on,
            or_(Responsibility.until.is_(None), Responsibility.until >= on),
        )
    return query.order_by(Responsibility.since, Responsibility.id)


# The record's current values, which an update merges the body into (``w.merged``).
def system_values(system: System) -> dict:
    return w.current(
        system, "name", "description", "team", "criticality", "in_production", "retired_on"
    )


def staff_values(person: StaffMember) -> dict:
    return w.current(
        person,
        "name",
        "email",
        "team",
        # Not merged: ``active`` only says something when sent ("false": leaving today).
        active=None,
        left_on=person.left_on,
        user_id=person.user_id,
    )


def responsibility_values(responsibility: Responsibility) -> dict:
    return w.current(responsibility, "kind", "since", "until")


def position_values(position: Position) -> dict:
    return w.current(
        position,
        "title",
        "team",
        system_ids=[system.id for system in position.systems],
        notes=position.notes,
    )


def _systems(args: dict):
    query_args = page_args(show="all")
    as_of, error = coverage_queries.as_of_from(query_args)
    if error:
        refused("date", error)
    return coverage_queries.systems_list_query(query_args, as_of)


record_list(
    register,
    "/systems",
    "Systems",
    model=System,
    args_schema=SystemArgs,
    page_schema=SystemPage,
    query=_systems,
    listed="""Production systems and software.

        The systems page's filters and sort (same names, values and order), coverage as of
        ``date``.""",
    schema=SystemSchema,
    create_schema=SystemCreate,
    role=Role.MANAGER,
    create=lambda body: create_system(name=body.pop("name", None), **body),
    added="Add a system: managers and admins.",
)


record_detail(
    register,
    "/systems/<int:system_id>",
    "SystemDetail",
    model=System,
    schema=SystemSchema,
    update_schema=SystemUpdate,
    role=Role.MANAGER,
    change=merged_update(system_values, update_system),
    read="One system.",
    changed="Change a system.",
)


record_list(
    register,
    "/staff",
    "Staff",
    model=StaffMember,
    args_schema=StaffArgs,
    page_schema=StaffPage,
    query=lambda args: coverage_queries.staff_list_query(page_args(status="all"), fiscal.today()),
    listed="""Staff members.

        The staff page's filters and sort (same names, values and order), as of today.""",
    schema=StaffSchema,
    create_schema=StaffCreate,
    role=Role.MANAGER,
    create=lambda body: create_staff_member(name=body.pop("name", None), **body),
    added="Add a staff member.",
)


record_detail(
    register,
    "/staff/<int:staff_id>",
    "StaffDetail",
    model=StaffMember,
    schema=StaffSchema,
    update_schema=StaffUpdate,
    role=Role.MANAGER,
    change=merged_update(staff_values, update_staff_member),
    read="One staff member.",
    changed="Change a staff member; a leaving date that costs coverage needs confirm_impact.",
)


record_list(
    register,
    "/responsibilities",
    "Responsibilities",
    model=Responsibility,
    args_schema=ResponsibilityArgs,
    page_schema=ResponsibilityPage,
    query=lambda args: responsibilities_query(args).options(*RESPONSIBILITY_LOADS),
    listed="Who is responsible for which system, and since when.",
    schema=ResponsibilitySchema,
    create_schema=ResponsibilityCreate,
    role=Role.MANAGER,
    create=lambda body: add_responsibility(
        staff_member_id=body.pop("staff_member_id", None),
        system_id=body.pop("system_id", None),
        since=body.pop("since", None),
        **body,
    ),
    added="Make a staff member responsible for a system from a date.",
)


record_detail(
    register,
    "/responsibilities/<int:responsibility_id>",
    "ResponsibilityDetail",
    model=Responsibility,
    schema=ResponsibilitySchema,
    update_schema=ResponsibilityUpdate,
    role=Role.MANAGER,
    change=merged_update(responsibility_values, update_responsibility),
    read="One responsibility.",
    changed="""Change a responsibility's kind or dates; an end that costs coverage needs
        confirm_impact.""",
    loads=RESPONSIBILITY_LOADS,
)


POSITION_LOADS = (
    selectinload(Position.hire),
    selectinload(Position.systems),
    selectinload(Position.status_changes),
)


def _positions(args: dict):
    query = select(Position).options(*POSITION_LOADS)
    for key in ("status", "team"):
        if args.get(key) is not None:
            query = query.where(getattr(Position, key) == args[key])
    return query.order_by(Position.opened_on, Position.id)


record_list(
    register,
    "/positions",
    "Positions",
    model=Position,
    args_schema=PositionArgs,
    page_schema=PositionPage,
    query=_positions,
    listed="Hiring positions opened to remove single points of failure.",
    schema=PositionSchema,
    create_schema=PositionCreate,
    role=Role.MANAGER,
    create=lambda body: create_position(
        title=body.pop("title", None),
        opened_on=body.pop("opened_on", None),
        **body,
        user_id=current_user.id,
    ),
    added="Open a hiring position to remove single points of failure.",
)


record_detail(
    register,
    "/positions/<int:position_id>",
    "PositionDetail",
    model=Position,
    schema=PositionSchema,
    update_schema=PositionUpdate,
    role=Role.MANAGER,
    change=merged_update(position_values, update_position),
    read="One position with its status history.",
    changed="Change a position's title, team, systems and notes (status has its own call).",
    loads=POSITION_LOADS,
)


def _change_status(position: Position, body: dict) -> None:
    version = body.pop("version")
    change_position_status(
        position,
        version=version,
        status=body.pop("status"),
        changed_on=body.pop("changed_on", None),
        user_id=current_user.id,
        **body,
    )


record_action(
    register,
    "/positions/<int:position_id>/status",
    "PositionStatusChanges",
    load=lambda position_id: get_or_404(Position, position_id, *POSITION_LOADS),
    body_schema=PositionStatusCreate,
    schema=PositionSchema,
    role=Role.MANAGER,
    act=_change_status,
    doc="Record a dated status change; filling it names the hire.",
)


def _ref(fact) -> dict:
    return {"id": fact.id, "name": fact.name}


def _coverage(args: dict) -> dict:
    coverage = coverage_figures.coverage_on(args.get("date") or fiscal.today())
    return {
        "as_of": coverage.as_of,
        "spof_staff_count": coverage.spof_staff_count,
        "spof_system_count": coverage.spof_system_count,
        "uncovered_count": coverage.uncovered_count,
        "covered_count": coverage.covered_count,
        "sole_responsible": [
            {"staff_member": _ref(person), "systems": [_ref(x) for x in owned]}
            for person, owned in coverage.sole_responsible
        ],
        "uncovered_systems": [_ref(x) for x in coverage.uncovered_systems],
        "systems": [
            {
                "id": entry.system.id,
                "name": entry.system.name,
                "state": entry.state,
                "staff_ids": list(entry.staff_ids),
            }
            for entry in coverage.systems
        ],
    }


query_read(
    figures,
    "/coverage",
    "CoverageFigures",
    args_schema=CoverageArgs,
    schema=CoverageSchema,
    answer=_coverage,
    doc="Single-point-of-failure coverage of production systems as of a date.",
)
