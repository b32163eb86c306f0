"""The API's resources for systems, staff, responsibilities, positions and coverage,
on the api blueprints of ``app.api.resources``."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app import fiscal
from app.api import writes as w
from app.api.paging import conditional, paginate
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
from app.security import readable, roles

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


@register.route("/systems")
class Systems(MethodView):
    @readable
    @register.arguments(SystemArgs, location="query")
    @register.response(200, SystemPage)
    def get(self, args):
        """Production systems and software.

        The systems page's filters and sort (same names, values and order), coverage as of
        ``date``."""
        query_args = page_args(show="all")
        as_of, error = coverage_queries.as_of_from(query_args)
        if error:
            refused("date", error)
        return paginate(coverage_queries.systems_list_query(query_args, as_of), args, System)

    @roles(Role.MANAGER)
    @register.arguments(SystemCreate)
    @register.response(201, SystemSchema)
    def post(self, body):
        """Add a system: managers and admins."""
        return w.saved(create_system(name=body.pop("name", None), **body))


@register.route("/systems/<int:system_id>")
class SystemDetail(MethodView):
    @readable
    @conditional
    @register.response(200, SystemSchema)
    def get(self, system_id):
        """One system."""
        return get_or_404(System, system_id)

    @roles(Role.MANAGER)
    @register.arguments(SystemUpdate)
    @register.response(200, SystemSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def patch(self, body, system_id):
        """Change a system."""
        system = get_or_404(System, system_id)
        values = w.merged(system_values(system), body)
        return w.saved(update_system(system, version=body["version"], **values))


@register.route("/staff")
class Staff(MethodView):
    @readable
    @register.arguments(StaffArgs, location="query")
    @register.response(200, StaffPage)
    def get(self, args):
        """Staff members.

        The staff page's filters and sort (same names, values and order), as of today."""
        query = coverage_queries.staff_list_query(page_args(status="all"), fiscal.today())
        return paginate(query, args, StaffMember)

    @roles(Role.MANAGER)
    @register.arguments(StaffCreate)
    @register.response(201, StaffSchema)
    def post(self, body):
        """Add a staff member."""
        return w.saved(create_staff_member(name=body.pop("name", None), **body))


@register.route("/staff/<int:staff_id>")
class StaffDetail(MethodView):
    @readable
    @conditional
    @register.response(200, StaffSchema)
    def get(self, staff_id):
        """One staff member."""
        return get_or_404(StaffMember, staff_id)

    @roles(Role.MANAGER)
    @register.arguments(StaffUpdate)
    @register.response(200, StaffSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def patch(self, body, staff_id):
        """Change a staff member; a leaving date that costs coverage needs confirm_impact."""
        person = get_or_404(StaffMember, staff_id)
        values = w.merged(staff_values(person), body)
        return w.saved(update_staff_member(person, version=body["version"], **values))


@register.route("/responsibilities")
class Responsibilities(MethodView):
    @readable
    @register.arguments(ResponsibilityArgs, location="query")
    @register.response(200, ResponsibilityPage)
    def get(self, args):
        """Who is responsible for which system, and since when."""
        query = responsibilities_query(args).options(*RESPONSIBILITY_LOADS)
        return paginate(query, args, Responsibility)

    @roles(Role.MANAGER)
    @register.arguments(ResponsibilityCreate)
    @register.response(201, ResponsibilitySchema)
    def post(self, body):
        """Make a staff member responsible for a system from a date."""
        return w.saved(
            add_responsibility(
                staff_member_id=body.pop("staff_member_id", None),
                system_id=body.pop("system_id", None),
                since=body.pop("since", None),
                **body,
            )
        )


@register.route("/responsibilities/<int:responsibility_id>")
class ResponsibilityDetail(MethodView):
    @readable
    @conditional
    @register.response(200, ResponsibilitySchema)
    def get(self, responsibility_id):
        """One responsibility."""
        return get_or_404(Responsibility, responsibility_id, *RESPONSIBILITY_LOADS)

    @roles(Role.MANAGER)
    @register.arguments(ResponsibilityUpdate)
    @register.response(200, ResponsibilitySchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def patch(self, body, responsibility_id):
        """Change a responsibility's kind or dates; an end that costs coverage needs
        confirm_impact."""
        responsibility = get_or_404(Responsibility, responsibility_id, *RESPONSIBILITY_LOADS)
        values = w.merged(responsibility_values(responsibility), body)
        return w.saved(update_responsibility(responsibility, version=body["version"], **values))


POSITION_LOADS = (
    selectinload(Position.hire),
    selectinload(Position.systems),
    selectinload(Position.status_changes),
)


@register.route("/positions")
class Positions(MethodView):
    @readable
    @register.arguments(PositionArgs, location="query")
    @register.response(200, PositionPage)
    def get(self, args):
        """Hiring positions opened to remove single points of failure."""
        query = select(Position).options(*POSITION_LOADS)
        for key in ("status", "team"):
            if args.get(key) is not None:
                query = query.where(getattr(Position, key) == args[key])
        return paginate(query.order_by(Position.opened_on, Position.id), args, Position)

    @roles(Role.MANAGER)
    @register.arguments(PositionCreate)
    @register.response(201, PositionSchema)
    def post(self, body):
        """Open a hiring position to remove single points of failure."""
        return w.saved(
            create_position(
                title=body.pop("title", None),
                opened_on=body.pop("opened_on", None),
                **body,
                user_id=current_user.id,
            )
        )


@register.route("/positions/<int:position_id>")
class PositionDetail(MethodView):
    @readable
    @conditional
    @register.response(200, PositionSchema)
    def get(self, position_id):
        """One position with its status history."""
        return get_or_404(Position, position_id, *POSITION_LOADS)

    @roles(Role.MANAGER)
    @register.arguments(PositionUpdate)
    @register.response(200, PositionSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def patch(self, body, position_id):
        """Change a position's title, team, systems and notes (status has its own call)."""
        position = get_or_404(Position, position_id, *POSITION_LOADS)
        values = w.merged(position_values(position), body)
        return w.saved(update_position(position, version=body["version"], **values))


@register.route("/positions/<int:position_id>/status")
@roles(Role.MANAGER)  # POST only: OPTIONS takes the class default
class PositionStatusChanges(MethodView):
    @register.arguments(PositionStatusCreate)
    @register.response(200, PositionSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def post(self, body, position_id):
        """Record a dated status change; filling it names the hire."""
        position = get_or_404(Position, position_id, *POSITION_LOADS)
        version = body.pop("version")
        change_position_status(
            position,
            version=version,
            status=body.pop("status"),
            changed_on=body.pop("changed_on", None),
            user_id=current_user.id,
            **body,
        )
        return w.saved(position)


def _ref(fact) -> dict:
    return {"id": fact.id, "name": fact.name}


@figures.route("/coverage")
class CoverageFigures(MethodView):
    @readable
    @figures.arguments(CoverageArgs, location="query")
    @figures.response(200, CoverageSchema)
    def get(self, args):
        """Single-point-of-failure coverage of production systems as of a date."""
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


# The record's current values, which an update merges the body into (``w.merged``).
def system_values(system: System) -> dict:
    return {
        "name": system.name,
        "description": system.description,
        "team": system.team,
        "criticality": system.criticality,
        "in_production": system.in_production,
        "retired_on": system.retired_on,
    }


def staff_values(person: StaffMember) -> dict:
    return {
        "name": person.name,
        "email": person.email,
        "team": person.team,
        # Not merged: ``active`` only says something when sent ("false": leaving today).
        "active": None,
        "left_on": person.left_on,
        "user_id": person.user_id,
    }


def responsibility_values(responsibility: Responsibility) -> dict:
    return {
        "kind": responsibility.kind,
        "since": responsibility.since,
        "until": responsibility.until,
    }


def position_values(position: Position) -> dict:
    return {
        "title": position.title,
        "team": position.team,
        "system_ids": [system.id for system in position.systems],
        "notes": position.notes,
    }
