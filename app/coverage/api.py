"""The API's resources for systems, staff, responsibilities, positions and coverage,
on the api blueprints of ``app.api.resources``."""

from __future__ import annotations

from functools import partial

from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app import fiscal
from app.api import writes as w
from app.api.records import (
    RecordDocs,
    created_from,
    merged_update,
    query_read,
    record_action,
    record_resources,
)
from app.api.resources import figures, get_or_404, page_args, refused, register
from app.coverage import figures as coverage_figures
from app.coverage import queries as coverage_queries
from app.coverage.api_schemas import (
    POSITION_SCHEMAS,
    RESPONSIBILITY_SCHEMAS,
    SYSTEM,
    CoverageArgs,
    CoverageSchema,
    PositionSchema,
    PositionStatusCreate,
)
from app.coverage.api_schemas import STAFF as STAFF_SCHEMAS
from app.coverage.inputs import NEW, PERIOD, STAFF
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


# The record's current values, which an update merges the body into (``w.merged``): the
# fields its input schema reads.
def system_values(system: System) -> dict:
    return w.current(system, *NEW)


def staff_values(person: StaffMember) -> dict:
    # Not merged: ``active`` only says something when sent ("false": leaving today).
    return w.current(person, *(name for name in STAFF if name != "active"), active=None)


def responsibility_values(responsibility: Responsibility) -> dict:
    return w.current(responsibility, *PERIOD)


def position_values(position: Position) -> dict:
    systems = [system.id for system in position.systems]
    return w.current(position, "title", "team", "notes", system_ids=systems)


def _systems(args: dict):
    query_args = page_args(show="all")
    as_of, error = coverage_queries.as_of_from(query_args)
    if error:
        refused("date", error)
    return coverage_queries.systems_list_query(query_args, as_of)


# Every coverage record is added and changed by managers.
managed = partial(record_resources, register, role=Role.MANAGER)


managed(
    ("/systems", "Systems", "/systems/<int:system_id>", "SystemDetail"),
    model=System,
    schemas=SYSTEM,
    query=_systems,
    create=created_from(create_system, "name"),
    change=merged_update(system_values, update_system),
    docs=RecordDocs(
        listed="""Production systems and software.

        The systems page's filters and sort (same names, values and order), coverage as of
        ``date``.""",
        added="Add a system: managers and admins.",
        read="One system.",
        changed="Change a system.",
    ),
)


managed(
    ("/staff", "Staff", "/staff/<int:staff_id>", "StaffDetail"),
    model=StaffMember,
    schemas=STAFF_SCHEMAS,
    query=lambda args: coverage_queries.staff_list_query(page_args(status="all"), fiscal.today()),
    create=created_from(create_staff_member, "name"),
    change=merged_update(staff_values, update_staff_member),
    docs=RecordDocs(
        listed="""Staff members.

        The staff page's filters and sort (same names, values and order), as of today.""",
        added="Add a staff member.",
        read="One staff member.",
        changed="Change a staff member; a leaving date that costs coverage needs confirm_impact.",
    ),
)


managed(
    (
        "/responsibilities",
        "Responsibilities",
        "/responsibilities/<int:responsibility_id>",
        "ResponsibilityDetail",
    ),
    model=Responsibility,
    schemas=RESPONSIBILITY_SCHEMAS,
    query=responsibilities_query,
    create=created_from(add_responsibility, "staff_member_id", "system_id", "since"),
    change=merged_update(responsibility_values, update_responsibility),
    docs=RecordDocs(
        listed="Who is responsible for which system, and since when.",
        added="Make a staff member responsible for a system from a date.",
        read="One responsibility.",
        changed="""Change a responsibility's kind or dates; an end that costs coverage needs
        confirm_impact.""",
    ),
    loads=RESPONSIBILITY_LOADS,
)


POSITION_LOADS = (
    selectinload(Position.hire),
    selectinload(Position.systems),
    selectinload(Position.status_changes),
)


def _positions(args: dict):
    query = select(Position)
    for key in ("status", "team"):
        if args.get(key) is not None:
            query = query.where(getattr(Position, key) == args[key])
    return query.order_by(Position.opened_on, Position.id)


# The opening step is recorded as the caller's.
open_position = created_from(create_position, "title", "opened_on")


managed(
    ("/positions", "Positions", "/positions/<int:position_id>", "PositionDetail"),
    model=Position,
    schemas=POSITION_SCHEMAS,
    query=_positions,
    create=lambda body: open_position(body | {"user_id": current_user.id}),
    change=merged_update(position_values, update_position),
    docs=RecordDocs(
        listed="Hiring positions opened to remove single points of failure.",
        added="Open a hiring position to remove single points of failure.",
        read="One position with its status history.",
        changed="Change a position's title, team, systems and notes (status has its own call).",
    ),
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
