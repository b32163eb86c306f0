"""Read endpoints of the API: the register, coverage and the quarter figures.

Lists are paginated (``page``, ``per_page``) and take the filters of the list pages;
every list loads its related rows with ``selectinload`` so the number of SQL queries
does not grow with the page size.
"""

from __future__ import annotations

import io

from flask import abort, request, send_file, url_for
from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app import fiscal
from app.api import rows
from app.api import schemas as s
from app.api import writes as w
from app.api.errors import register_api_errors
from app.api.paging import conditional, paginate
from app.api.strict import Blueprint, refuse_unknown_arguments
from app.countermeasures import figures as countermeasure_figures
from app.countermeasures import queries as cm_queries
from app.countermeasures import service as cm_service
from app.countermeasures import status as countermeasures_status
from app.coverage import figures as coverage_figures
from app.coverage import positions as coverage_positions
from app.coverage import queries as coverage_queries
from app.coverage import responsibilities as coverage_responsibilities
from app.coverage import staff as coverage_staff
from app.coverage import systems as coverage_systems
from app.domain.quarters import Quarter, fiscal_year_label
from app.domain.scoring import level_for
from app.extensions import db
from app.models import (
    Countermeasure,
    Deletion,
    KeyResult,
    Objective,
    Position,
    Responsibility,
    StaffMember,
    System,
    Threat,
)
from app.models.user import Role
from app.okrs import service as okr_service
from app.reports import service as report_service
from app.security import readable, roles
from app.threats import archive as threats_archive
from app.threats import figures as threat_figures
from app.threats import queries as threat_queries
from app.threats import service as threats_service
from app.threats import states as threats_states
from app.threats.risk import risk_matrix
from app.validation import ConflictError, InputError

register = Blueprint(
    "api_register", __name__, url_prefix="", description="Threats, countermeasures, systems, staff"
)
figures = Blueprint(
    "api_figures", __name__, url_prefix="", description="OKRs, coverage and quarter figures"
)

register_api_errors(register)
register_api_errors(figures)
register.before_request(refuse_unknown_arguments)
figures.before_request(refuse_unknown_arguments)


def blueprints() -> list[Blueprint]:
    from app.catalogues.api import catalogues

    return [register, figures, catalogues]


def get_or_404(model, object_id: int, *options):
    if not 1 <= object_id <= s.MAX_ID:
        abort(404, f"No {model.__name__} with id {object_id}.")
    found = db.session.get(model, object_id, options=list(options))
    if found is None:
        abort(404, f"No {model.__name__} with id {object_id}.")
    return found


# ---- threats ------------------------------------------------------------------------

THREAT_LOADS = (
    selectinload(Threat.category),
    selectinload(Threat.feed),
    selectinload(Threat.owner),
    selectinload(Threat.systems),
    selectinload(Threat.tags),
)


PAGING = ("page", "per_page", "after", "before", "updated_since", "include_archived")


def page_args(**everything) -> dict:
    """The request's query string as the list pages read it (paging is the API's own);
    with include_archived=1, ``everything`` replaces the page's filter of what is current."""
    args = {k: v for k, v in request.args.items() if k not in PAGING}
    if request.args.get("include_archived") == "1":
        args.update(everything)
    return args


def refused(field: str, message: str):
    raise InputError({field: message})  # 422, as the schema's own refusals


@register.route("/threats")
class Threats(MethodView):
    @readable
    @register.arguments(s.ThreatArgs, location="query")
    @register.response(200, s.ThreatPage)
    def get(self, args):
        """Threats in the register, with their current scores, level, systems and tags.

        The register page's filters and sort, with the same names and values: the same
        query string lists the same threats in the same order here, on the page and in
        its CSV export."""
        try:
            query = threat_queries.list_query(page_args(include_archived="1"))
        except ValueError as error:  # the page's 400: an impossible date
            refused("as_of", str(error))
        return paginate(query, args, Threat, rows.threat_items)

    @roles(Role.SECURITY)
    @register.arguments(s.ThreatCreate)
    @register.response(201, s.ThreatDetailSchema)
    def post(self, body):
        """Add a threat with its first assessment: security and admins."""
        return w.saved(threats_service.create_threat(body, current_user.id))


@register.route("/threats/<int:threat_id>")
class ThreatDetail(MethodView):
    @readable
    @conditional
    @register.response(200, s.ThreatDetailSchema)
    def get(self, threat_id):
        """One threat with its score history and its dated status and review history."""
        return load_threat(threat_id)

    @roles(Role.SECURITY)
    @register.arguments(s.ThreatUpdate)
    @register.response(200, s.ThreatDetailSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def patch(self, body, threat_id):
        """Change a threat; new scores are kept in its history (dated ``scored_on``)."""
        threat = load_threat(threat_id)
        version = body.pop("version")
        threats_service.update_threat(threat, body, current_user.id, version)
        return w.saved(threat)


def load_threat(threat_id: int) -> Threat:
    return get_or_404(
        Threat,
        threat_id,
        *THREAT_LOADS,
        selectinload(Threat.score_changes),
        selectinload(Threat.state_changes),
    )


@register.route("/threats/<int:threat_id>/archive")
@roles(Role.SECURITY)  # POST only: OPTIONS takes the class default
class ThreatArchive(MethodView):
    @register.arguments(s.DatedAction, required=False)
    @register.response(200, s.ThreatDetailSchema)
    def post(self, body, threat_id):
        """Take a threat off the register (kept, and restorable) from ``on`` (default today)."""
        threat = load_threat(threat_id)
        threats_archive.archive_threat(threat, current_user.id, on=(body or {}).get("on"))
        return w.saved(threat)


@register.route("/threats/<int:threat_id>/restore")
@roles(Role.SECURITY)  # POST only: OPTIONS takes the class default
class ThreatRestore(MethodView):
    @register.arguments(s.DatedAction, required=False)
    @register.response(200, s.ThreatDetailSchema)
    def post(self, body, threat_id):
        """Put an archived threat back on the register from ``on`` (default today)."""
        threat = load_threat(threat_id)
        threats_archive.restore_threat(threat, current_user.id, on=(body or {}).get("on"))
        return w.saved(threat)


@register.route("/threats/<int:threat_id>/reviews")
@roles(Role.SECURITY)  # POST only: OPTIONS takes the class default
class ThreatReviews(MethodView):
    @register.arguments(s.ThreatReview)
    @register.response(200, s.ThreatDetailSchema)
    def post(self, body, threat_id):
        """Record a review: when, its outcome and the next review date (a dated fact)."""
        threat = load_threat(threat_id)
        threats_states.review_threat(
            threat,
            current_user.id,
            on=body.get("reviewed_on"),
            outcome=body.get("outcome") or "",
            next_review_on=body.get("next_review_on"),
        )
        return w.saved(threat)


# ---- countermeasures ----------------------------------------------------------------

COUNTERMEASURE_LOADS = (selectinload(Countermeasure.owner), selectinload(Countermeasure.threats))


@register.route("/countermeasures")
class Countermeasures(MethodView):
    @readable
    @register.arguments(s.CountermeasureArgs, location="query")
    @register.response(200, s.CountermeasurePage)
    def get(self, args):
        """Countermeasures, with the threats they treat.

        The countermeasures page's filters and sort (same names, values and order)."""
        query, _filters, problems = cm_queries.list_query(page_args())
        if problems:  # a value the page ignores (and says so): refused here
            refused("filters", " ".join(problems))
        return paginate(query.options(*COUNTERMEASURE_LOADS), args, Countermeasure)

    @roles(Role.SECURITY)
    @register.arguments(s.CountermeasureCreate)
    @register.response(201, s.CountermeasureDetailSchema)
    def post(self, body):
        """Plan (or record) a countermeasure: security and admins."""
        title = body.pop("title", None)
        return w.saved(
            cm_service.create_countermeasure(title=title, **body, user_id=current_user.id)
        )


@register.route("/countermeasures/<int:countermeasure_id>")
class CountermeasureDetail(MethodView):
    @readable
    @conditional
    @register.response(200, s.CountermeasureDetailSchema)
    def get(self, countermeasure_id):
        """One countermeasure with its status history."""
        return get_or_404(
            Countermeasure,
            countermeasure_id,
            *COUNTERMEASURE_LOADS,
            selectinload(Countermeasure.status_changes),
        )

    @roles(Role.SECURITY)
    @register.arguments(s.CountermeasureUpdate)
    @register.response(200, s.CountermeasureDetailSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def patch(self, body, countermeasure_id):
        """Edit a countermeasure's description, threats, owner and plan (not its status)."""
        countermeasure = load_countermeasure(countermeasure_id)
        values = w.merged(w.countermeasure_values(countermeasure), body)
        cm_service.update_countermeasure(countermeasure, **values, expected_version=body["version"])
        return w.saved(countermeasure)


def load_countermeasure(countermeasure_id: int) -> Countermeasure:
    return get_or_404(
        Countermeasure,
        countermeasure_id,
        *COUNTERMEASURE_LOADS,
        selectinload(Countermeasure.status_changes),
    )


@register.route("/countermeasures/<int:countermeasure_id>/status")
@roles(Role.SECURITY)  # POST only: OPTIONS takes the class default
class CountermeasureStatusChanges(MethodView):
    @register.arguments(s.CountermeasureStatusCreate)
    @register.response(200, s.CountermeasureDetailSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def post(self, body, countermeasure_id):
        """Move a countermeasure to in progress or retired (deployment has its own call)."""
        countermeasure = load_countermeasure(countermeasure_id)
        countermeasures_status.change_status(
            countermeasure,
            body["status"],
            changed_on=body.get("changed_on"),
            user_id=current_user.id,
            expected_version=body["version"],
        )
        return w.saved(countermeasure)


@register.route("/countermeasures/<int:countermeasure_id>/deploy")
@roles(Role.SECURITY)  # POST only: OPTIONS takes the class default
class CountermeasureDeployment(MethodView):
    @register.arguments(s.DeploymentCreate)
    @register.response(200, s.CountermeasureDetailSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def post(self, body, countermeasure_id):
        """Record the deployment and the treated threats' new residual scores."""
        countermeasure = load_countermeasure(countermeasure_id)
        countermeasures_status.deploy_countermeasure(
            countermeasure,
            deployed_on=body.get("deployed_on"),
            residuals={
                r["threat_id"]: (r["likelihood"], r["impact"]) for r in body.get("residuals", [])
            },
            user_id=current_user.id,
            evidence=body.get("evidence"),
            expected_version=body["version"],
        )
        return w.saved(countermeasure)


@register.route("/countermeasures/<int:countermeasure_id>/verify")
@roles(Role.SECURITY)  # POST only: OPTIONS takes the class default
class CountermeasureVerification(MethodView):
    @register.arguments(s.VerificationCreate)
    @register.response(200, s.CountermeasureDetailSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def post(self, body, countermeasure_id):
        """Record that a deployed countermeasure was verified: when, by whom, how well."""
        countermeasure = load_countermeasure(countermeasure_id)
        countermeasures_status.verify_countermeasure(
            countermeasure,
            verified_on=body.get("verified_on"),
            verified_by_id=body.get("verified_by_id"),
            effectiveness=body.get("effectiveness"),
            expected_version=body["version"],
        )
        return w.saved(countermeasure)


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
    @register.arguments(s.SystemArgs, location="query")
    @register.response(200, s.SystemPage)
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
    @register.arguments(s.SystemCreate)
    @register.response(201, s.SystemSchema)
    def post(self, body):
        """Add a system: managers and admins."""
        return w.saved(coverage_systems.create_system(name=body.pop("name", None), **body))


@register.route("/systems/<int:system_id>")
class SystemDetail(MethodView):
    @readable
    @conditional
    @register.response(200, s.SystemSchema)
    def get(self, system_id):
        """One system."""
        return get_or_404(System, system_id)

    @roles(Role.MANAGER)
    @register.arguments(s.SystemUpdate)
    @register.response(200, s.SystemSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def patch(self, body, system_id):
        """Change a system."""
        system = get_or_404(System, system_id)
        values = w.merged(w.system_values(system), body)
        return w.saved(coverage_systems.update_system(system, version=body["version"], **values))


@register.route("/staff")
class Staff(MethodView):
    @readable
    @register.arguments(s.StaffArgs, location="query")
    @register.response(200, s.StaffPage)
    def get(self, args):
        """Staff members.

        The staff page's filters and sort (same names, values and order), as of today."""
        query = coverage_queries.staff_list_query(page_args(status="all"), fiscal.today())
        return paginate(query, args, StaffMember)

    @roles(Role.MANAGER)
    @register.arguments(s.StaffCreate)
    @register.response(201, s.StaffSchema)
    def post(self, body):
        """Add a staff member."""
        return w.saved(coverage_staff.create_staff_member(name=body.pop("name", None), **body))


@register.route("/staff/<int:staff_id>")
class StaffDetail(MethodView):
    @readable
    @conditional
    @register.response(200, s.StaffSchema)
    def get(self, staff_id):
        """One staff member."""
        return get_or_404(StaffMember, staff_id)

    @roles(Role.MANAGER)
    @register.arguments(s.StaffUpdate)
    @register.response(200, s.StaffSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def patch(self, body, staff_id):
        """Change a staff member; a leaving date that costs coverage needs confirm_impact."""
        person = get_or_404(StaffMember, staff_id)
        values = w.merged(w.staff_values(person), body)
        return w.saved(
            coverage_staff.update_staff_member(person, version=body["version"], **values)
        )


@register.route("/responsibilities")
class Responsibilities(MethodView):
    @readable
    @register.arguments(s.ResponsibilityArgs, location="query")
    @register.response(200, s.ResponsibilityPage)
    def get(self, args):
        """Who is responsible for which system, and since when."""
        query = responsibilities_query(args).options(*RESPONSIBILITY_LOADS)
        return paginate(query, args, Responsibility)

    @roles(Role.MANAGER)
    @register.arguments(s.ResponsibilityCreate)
    @register.response(201, s.ResponsibilitySchema)
    def post(self, body):
        """Make a staff member responsible for a system from a date."""
        return w.saved(
            coverage_responsibilities.add_responsibility(
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
    @register.response(200, s.ResponsibilitySchema)
    def get(self, responsibility_id):
        """One responsibility."""
        return get_or_404(Responsibility, responsibility_id, *RESPONSIBILITY_LOADS)

    @roles(Role.MANAGER)
    @register.arguments(s.ResponsibilityUpdate)
    @register.response(200, s.ResponsibilitySchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def patch(self, body, responsibility_id):
        """Change a responsibility's kind or dates; an end that costs coverage needs
        confirm_impact."""
        responsibility = get_or_404(Responsibility, responsibility_id, *RESPONSIBILITY_LOADS)
        values = w.merged(w.responsibility_values(responsibility), body)
        return w.saved(
            coverage_responsibilities.update_responsibility(
                responsibility, version=body["version"], **values
            )
        )


POSITION_LOADS = (
    selectinload(Position.hire),
    selectinload(Position.systems),
    selectinload(Position.status_changes),
)


@register.route("/positions")
class Positions(MethodView):
    @readable
    @register.arguments(s.PositionArgs, location="query")
    @register.response(200, s.PositionPage)
    def get(self, args):
        """Hiring positions opened to remove single points of failure."""
        query = select(Position).options(*POSITION_LOADS)
        for key in ("status", "team"):
            if args.get(key) is not None:
                query = query.where(getattr(Position, key) == args[key])
        return paginate(query.order_by(Position.opened_on, Position.id), args, Position)

    @roles(Role.MANAGER)
    @register.arguments(s.PositionCreate)
    @register.response(201, s.PositionSchema)
    def post(self, body):
        """Open a hiring position to remove single points of failure."""
        return w.saved(
            coverage_positions.create_position(
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
    @register.response(200, s.PositionSchema)
    def get(self, position_id):
        """One position with its status history."""
        return get_or_404(Position, position_id, *POSITION_LOADS)

    @roles(Role.MANAGER)
    @register.arguments(s.PositionUpdate)
    @register.response(200, s.PositionSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def patch(self, body, position_id):
        """Change a position's title, team, systems and notes (status has its own call)."""
        position = get_or_404(Position, position_id, *POSITION_LOADS)
        values = w.merged(w.position_values(position), body)
        return w.saved(
            coverage_positions.update_position(position, version=body["version"], **values)
        )


@register.route("/positions/<int:position_id>/status")
@roles(Role.MANAGER)  # POST only: OPTIONS takes the class default
class PositionStatusChanges(MethodView):
    @register.arguments(s.PositionStatusCreate)
    @register.response(200, s.PositionSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def post(self, body, position_id):
        """Record a dated status change; filling it names the hire."""
        position = get_or_404(Position, position_id, *POSITION_LOADS)
        version = body.pop("version")
        coverage_positions.change_position_status(
            position,
            version=version,
            status=body.pop("status"),
            changed_on=body.pop("changed_on", None),
            user_id=current_user.id,
            **body,
        )
        return w.saved(position)


# ---- deletions ----------------------------------------------------------------------


@register.route("/deletions")
class Deletions(MethodView):
    @readable
    @register.arguments(s.DeletionArgs, location="query")
    @register.response(200, s.DeletionPage)
    def get(self, args):
        """Records deleted for good from the lists (a purged threat, for instance), oldest
        first: which list each left, its id, when and by whom.

        A sync reads each list with ``updated_since`` (created, changed and, with
        include_archived=1, archived records) and this one with the same ``updated_since``
        (deleted records): together, everything that happened since. A record deleted from
        one list is also gone from the lists that name it (a countermeasure's ``threats``);
        those records are listed as changed."""
        query = select(Deletion)
        if args.get("entity"):
            query = query.where(Deletion.entity == args["entity"])
        return paginate(query.order_by(Deletion.id), args, Deletion, changed_at=Deletion.deleted_at)


# ---- figures ------------------------------------------------------------------------


@figures.route("/okrs")
class Okrs(MethodView):
    @readable
    @figures.arguments(s.OkrArgs, location="query")
    @figures.response(200, s.OkrYearSchema)
    def get(self, args):
        """Objectives of a fiscal year with their key results and quarterly statuses."""
        year = args.get("year") or fiscal.current_quarter().fiscal_year
        objectives = db.session.scalars(
            select(Objective)
            .where(Objective.fiscal_year == year)
            .options(selectinload(Objective.key_results).selectinload(KeyResult.statuses))
            .order_by(Objective.position, Objective.id)
        ).all()
        return {
            "fiscal_year": fiscal_year_label(year, fiscal.start_month()),
            "objectives": objectives,
        }


def _ref(fact) -> dict:
    return {"id": fact.id, "name": fact.name}


@figures.route("/coverage")
class CoverageFigures(MethodView):
    @readable
    @figures.arguments(s.CoverageArgs, location="query")
    @figures.response(200, s.CoverageSchema)
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


@figures.route("/quarters/<label>")
class QuarterFigures(MethodView):
    @readable
    @figures.response(200, s.QuarterSchema)
    @figures.alt_response(422, response="DEFAULT_ERROR", description="Not started yet")
    def get(self, label):
        """A quarter's figures: countermeasures deployed (in it, and in its fiscal year to
        its end) against the target and the year's goal, the top threats at its start and
        what treated them, what slipped. A quarter that has not started is refused (422):
        it has nothing to measure yet."""
        quarter = fiscal.quarter_or_404(label)
        today = fiscal.today()
        if quarter.first_day > today:
            refused(
                "label", f"{quarter.label} starts on {quarter.first_day}: nothing to measure yet."
            )
        matrix = risk_matrix()
        target = countermeasure_figures.quarter_target()
        treated = countermeasure_figures.top_threats_treated(quarter, target)
        slipped = countermeasure_figures.slipped_countermeasures(quarter)
        return {
            "state": "over" if quarter.last_day < today else "in_progress",
            "target": target,
            "goal": countermeasure_figures.yearly_goal(),
            "slipped": [{"id": cm.id, "title": cm.title} for cm in slipped],
            "quarter": quarter.label,
            "starts_on": quarter.first_day,
            "ends_on": quarter.last_day,
            "countermeasures_deployed": countermeasure_figures.countermeasures_deployed(quarter),
            "countermeasures_deployed_to_date": (
                countermeasure_figures.countermeasures_deployed_to_date(quarter)
            ),
            "top_threats": [
                {
                    "rank": entry.rank,
                    "id": entry.threat.id,
                    "title": entry.threat.title,
                    "inherent_score": entry.threat.inherent_score,
                    "residual_score": entry.threat.residual_score,
                    "level": level_for(entry.threat.residual_score, matrix).value,
                    "treated": entry.treated,
                    "countermeasures": [
                        {"id": fact.id, "title": fact.title} for fact in entry.countermeasures
                    ],
                }
                for entry in treated
            ],
        }


@figures.route("/heatmap")
class Heatmap(MethodView):
    @readable
    @figures.arguments(s.HeatmapArgs, location="query")
    @figures.response(200, s.HeatmapSchema)
    def get(self, args):
        """The heat map of open threats (inherent or residual) as of a day or the end of an
        ended quarter, as the heat-map page shows it, with each cell's threats."""
        kind = args["kind"]
        today = fiscal.today()
        quarter = args.get("quarter")
        if quarter is not None and quarter.last_day > today:
            refused(
                "quarter", f"{quarter.label} has not ended yet; choose a past quarter or a date."
            )
        as_of = quarter.last_day if quarter is not None else args.get("date") or today
        cells = threat_figures.heatmap_as_of(as_of, kind)
        return {
            "kind": kind,
            "as_of": as_of,
            "total": sum(cells.values()),
            "cells": [
                {
                    "likelihood": li,
                    "impact": im,
                    "count": count,
                    # The cell's link on the page: bounded by the matrix, not by the rows.
                    "threat_ids": (
                        sorted(
                            db.session.scalars(threat_figures.cell_threat_ids(as_of, kind, li, im))
                        )
                        if count
                        else []
                    ),
                }
                for (li, im), count in sorted(cells.items())
            ],
        }


@figures.route("/top-threats")
class TopThreats(MethodView):
    @readable
    @figures.arguments(s.TopArgs, location="query")
    @figures.response(200, s.TopSchema)
    def get(self, args):
        """The register's top N open threats as of a day: the one ranking of the register."""
        as_of = args.get("date") or fiscal.today()
        matrix = risk_matrix()
        return {
            "as_of": as_of,
            "threats": [
                {
                    "rank": rank,
                    "id": t.id,
                    "title": t.title,
                    "inherent_score": t.inherent_score,
                    "residual_score": t.residual_score,
                    "level": level_for(t.residual_score, matrix).value,
                }
                for rank, t in enumerate(threat_figures.top_threats(as_of, args["n"]), start=1)
            ],
        }


# ---- OKRs: written through the same service as the forms ---------------------------

OKR_LOADS = (selectinload(Objective.key_results).selectinload(KeyResult.statuses),)


def _same_version(obj, version: int | None) -> None:
    if version is None or version != obj.version:
        raise ConflictError(
            f"{obj} changed since you read it (version {obj.version}); read it again, "
            "then make your change."
        )


def _objective_values(objective: Objective) -> dict:
    return {
        "title": objective.title,
        "statement": objective.statement,
        "department": objective.department,
        "fiscal_year": objective.fiscal_year,
        "target_completion": objective.target_completion,
        "position": objective.position,
    }


def _key_result_values(key_result: KeyResult) -> dict:
    return {
        "code": key_result.code,
        "statement": key_result.statement,
        "baseline_text": key_result.baseline_text,
        "baseline_value": key_result.baseline_value,
        "goal_text": key_result.goal_text,
        "goal_value": key_result.goal_value,
        "goal_unit": key_result.goal_unit,
        "goal_direction": key_result.goal_direction,
        "metric": key_result.metric,
        "baseline_quarter": okr_service.baseline_quarter_label(key_result),
        "position": key_result.position,
    }


@figures.route("/objectives")
@roles(Role.MANAGER)  # POST only: OPTIONS takes the class default
class Objectives(MethodView):
    @roles(Role.MANAGER)
    @figures.arguments(s.ObjectiveCreate)
    @figures.response(201, s.ObjectiveSchema)
    def post(self, body):
        """Add an objective: managers and admins (the objectives page's rules)."""
        return w.saved(okr_service.create_objective(**body))


@figures.route("/objectives/<int:objective_id>")
class ObjectiveDetail(MethodView):
    @readable
    @conditional
    @figures.response(200, s.ObjectiveSchema)
    def get(self, objective_id):
        """One objective with its key results and their quarterly statuses."""
        return get_or_404(Objective, objective_id, *OKR_LOADS)

    @roles(Role.MANAGER)
    @figures.arguments(s.ObjectiveUpdate)
    @figures.response(200, s.ObjectiveSchema)
    @figures.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def patch(self, body, objective_id):
        """Change an objective (send the version you read)."""
        objective = get_or_404(Objective, objective_id, *OKR_LOADS)
        _same_version(objective, body.get("version"))
        values = w.merged(_objective_values(objective), body)
        return w.saved(okr_service.update_objective(objective, **values))


@figures.route("/objectives/<int:objective_id>/key-results")
@roles(Role.MANAGER)  # POST only: OPTIONS takes the class default
class ObjectiveKeyResults(MethodView):
    @roles(Role.MANAGER)
    @figures.arguments(s.KeyResultCreate)
    @figures.response(201, s.KeyResultSchema)
    def post(self, body, objective_id):
        """Add a key result to an objective: managers and admins."""
        objective = get_or_404(Objective, objective_id, *OKR_LOADS)
        return w.saved(okr_service.create_key_result(objective, **body))


@figures.route("/key-results/<int:key_result_id>")
class KeyResultDetail(MethodView):
    @readable
    @conditional
    @figures.response(200, s.KeyResultSchema)
    def get(self, key_result_id):
        """One key result with its quarterly statuses."""
        return get_or_404(KeyResult, key_result_id, selectinload(KeyResult.statuses))

    @roles(Role.MANAGER)
    @figures.arguments(s.KeyResultUpdate)
    @figures.response(200, s.KeyResultSchema)
    @figures.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def patch(self, body, key_result_id):
        """Change a key result (send the version you read)."""
        key_result = get_or_404(KeyResult, key_result_id, selectinload(KeyResult.statuses))
        _same_version(key_result, body.get("version"))
        values = w.merged(_key_result_values(key_result), body)
        return w.saved(okr_service.update_key_result(key_result, **values))


@figures.route("/key-results/<int:key_result_id>/statuses")
@roles(Role.MANAGER)  # POST only: OPTIONS takes the class default
class KeyResultStatuses(MethodView):
    @roles(Role.MANAGER)
    @figures.arguments(s.StatusWrite)
    @figures.response(200, s.KeyResultStatusSchema)
    @figures.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def post(self, body, key_result_id):
        """Write a quarter's status (text, value, rating) as the key result's form does;
        rewriting an existing one needs the version you read."""
        key_result = get_or_404(KeyResult, key_result_id, selectinload(KeyResult.statuses))
        version = body.pop("version", None)
        try:
            quarter = fiscal.parse_quarter(body["quarter"], fiscal.start_month())
        except ValueError:
            quarter = None  # the service names what is wrong with it
        existing = next(
            (
                x
                for x in key_result.statuses
                if quarter is not None and x.quarter_start == quarter.first_day
            ),
            None,
        )
        if existing is not None:
            _same_version(existing, version)
        return w.saved(
            okr_service.write_status(
                key_result,
                quarter=body["quarter"],
                text=body.get("text", ""),
                value=body.get("value"),
                rating=body.get("rating"),
                author_id=current_user.id,
            )
        )


# ---- reports --------------------------------------------------------------------------


def _report_subject(args) -> tuple[Objective, Quarter]:
    quarter = report_service.parse_report_quarter(
        args["quarter"], fiscal.start_month(), fiscal.today()
    )
    if args.get("objective") is None:
        objective = report_service.default_objective(quarter.fiscal_year)
        if objective is None:
            abort(404, f"There is no objective for {quarter.fiscal_year_label} to report on.")
        return objective, quarter
    try:
        objective = report_service.objective_for_report(args["objective"])
    except report_service.ReportNotFoundError as error:
        abort(404, str(error))
    report_service.check_quarter_in_year(objective, quarter)
    return objective, quarter


@figures.route("/reports")
class Reports(MethodView):
    @readable
    @figures.arguments(s.ReportArgs, location="query")
    @figures.response(200, s.ReportSchema)
    def get(self, args):
        """A quarter's report: whether it is published, its publications, and its PDF's
        address (the published copy when there is one, as the reports page downloads)."""
        objective, quarter = _report_subject(args)
        publications = report_service.publications_of(objective.id, quarter)
        return {
            "objective": {"id": objective.id, "title": objective.title},
            "quarter": quarter.label,
            "published": any(p.superseded_by_id is None for p in publications),
            "pdf": url_for("api_figures.ReportPdf", objective=objective.id, quarter=quarter.label),
            "publications": publications,
        }


@figures.route("/reports/pdf")
class ReportPdf(MethodView):
    @readable
    @figures.arguments(s.ReportArgs, location="query")
    @figures.doc(
        responses={
            "200": {
                "description": "The PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    )
    def get(self, args):
        """The quarter's PDF report: the published copy when there is one, else built now."""
        objective, quarter = _report_subject(args)
        document = report_service.report_document(objective, quarter, fiscal.today())
        return send_file(
            io.BytesIO(document.pdf),
            mimetype="application/pdf",
            as_attachment=True,
            download_name=report_service.download_name(objective, quarter),
            max_age=0,
        )
