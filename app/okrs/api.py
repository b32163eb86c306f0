"""The API's resources for objectives and key results,
on the api blueprints of ``app.api.resources``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import fiscal
from app.api import writes as w
from app.api.records import query_read, record_action, record_detail
from app.api.resources import figures, get_or_404
from app.domain.quarters import fiscal_year_label
from app.extensions import db
from app.models import (
    KeyResult,
    Objective,
)
from app.models.user import Role
from app.okrs import service as okr_service
from app.okrs.api_schemas import (
    KeyResultCreate,
    KeyResultSchema,
    KeyResultStatusSchema,
    KeyResultUpdate,
    ObjectiveCreate,
    ObjectiveSchema,
    ObjectiveUpdate,
    OkrArgs,
    OkrYearSchema,
    StatusWrite,
)
from app.okrs.inputs import KEY_RESULT_FIELDS, OBJECTIVE_FIELDS
from app.security import roles
from app.validation import ConflictError

# ---- figures ------------------------------------------------------------------------


def _okr_year(args: dict) -> dict:
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


query_read(
    figures,
    "/okrs",
    "Okrs",
    args_schema=OkrArgs,
    schema=OkrYearSchema,
    answer=_okr_year,
    doc="Objectives of a fiscal year with their key results and quarterly statuses.",
)


# ---- OKRs: written through the same service as the forms ---------------------------

OKR_LOADS = (selectinload(Objective.key_results).selectinload(KeyResult.statuses),)
KR_LOADS = (selectinload(KeyResult.statuses),)


def _same_version(obj, version: int | None) -> None:
    if version is None or version != obj.version:
        raise ConflictError(
            f"{obj} changed since you read it (version {obj.version}); read it again, "
            "then make your change."
        )


def _objective_values(objective: Objective) -> dict:
    return w.current(objective, *OBJECTIVE_FIELDS)


def _key_result_values(key_result: KeyResult) -> dict:
    return w.current(
        key_result,
        *KEY_RESULT_FIELDS,
        baseline_quarter=okr_service.baseline_quarter_label(key_result),
        position=key_result.position,
    )


def _adding(body_schema, schema):
    """A POST that adds an objective or a key result: managers and admins (the objectives
    page's rules), the body read, 201 with the record as saved."""

    def decorate(post):
        answered = figures.arguments(body_schema)(figures.response(201, schema)(post))
        return roles(Role.MANAGER)(answered)

    return decorate


@figures.route("/objectives")
@roles(Role.MANAGER)  # POST only: OPTIONS takes the class default
class Objectives(MethodView):
    @_adding(ObjectiveCreate, ObjectiveSchema)
    def post(self, body):
        """Add an objective: managers and admins (the objectives page's rules)."""
        return w.saved(okr_service.create_objective(**body))


@figures.route("/objectives/<int:objective_id>/key-results")
@roles(Role.MANAGER)  # POST only: OPTIONS takes the class default
class ObjectiveKeyResults(MethodView):
    @_adding(KeyResultCreate, KeyResultSchema)
    def post(self, body, objective_id):
        """Add a key result to an objective: managers and admins."""
        objective = get_or_404(Objective, objective_id, *OKR_LOADS)
        return w.saved(okr_service.create_key_result(objective, **body))


# What an objective's and a key result's read and change differ in: their current values
# and update (the OKR services take no version: it is checked first), their documents.
_UPDATES: dict[type, tuple[Callable[[Any], dict], Callable[..., Any]]] = {
    Objective: (_objective_values, okr_service.update_objective),
    KeyResult: (_key_result_values, okr_service.update_key_result),
}
_DOCS = {
    Objective: (
        "One objective with its key results and their quarterly statuses.",
        "Change an objective (send the version you read).",
    ),
    KeyResult: (
        "One key result with its quarterly statuses.",
        "Change a key result (send the version you read).",
    ),
}


def _checked_update(model: type):
    """The service's update after the version check."""
    values, update = _UPDATES[model]

    def change(record, body: dict):
        _same_version(record, body.get("version"))
        return update(record, **w.merged(values(record), body))

    return change


for rule, model, schema, update_schema, loads in (
    ("/objectives/<int:objective_id>", Objective, ObjectiveSchema, ObjectiveUpdate, OKR_LOADS),
    ("/key-results/<int:key_result_id>", KeyResult, KeyResultSchema, KeyResultUpdate, KR_LOADS),
):
    record_detail(
        figures,
        rule,
        f"{model.__name__}Detail",
        model=model,
        schema=schema,
        update_schema=update_schema,
        role=Role.MANAGER,
        change=_checked_update(model),
        read=_DOCS[model][0],
        changed=_DOCS[model][1],
        loads=loads,
    )


def _write_status(key_result: KeyResult, body: dict):
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
    return okr_service.write_status(
        key_result,
        quarter=body["quarter"],
        text=body.get("text", ""),
        value=body.get("value"),
        rating=body.get("rating"),
        author_id=current_user.id,
    )


record_action(
    figures,
    "/key-results/<int:key_result_id>/statuses",
    "KeyResultStatuses",
    load=lambda key_result_id: get_or_404(
        KeyResult, key_result_id, selectinload(KeyResult.statuses)
    ),
    body_schema=StatusWrite,
    schema=KeyResultStatusSchema,
    role=Role.MANAGER,
    act=_write_status,
    doc="""Write a quarter's status (text, value, rating) as the key result's form does;
        rewriting an existing one needs the version you read.""",
)
