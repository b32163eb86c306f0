"""The API's schemas for countermeasures and the quarter's figures:
query strings, answers and request bodies."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app import fiscal
from app.api import schemas as api
from app.countermeasures import queries as cm_queries
from app.countermeasures.inputs import (
    CountermeasureInput,
    DeploymentInput,
    StatusChangeInput,
    VerificationInput,
)
from app.inputs import body_of
from app.models import (
    CountermeasureStatus,
    CountermeasureType,
    Effectiveness,
)
from app.threats.api_schemas import TopThreatSchema


class CountermeasureArgs(api.ListArgs):
    """The countermeasures page's filters (``app.countermeasures.queries``)."""

    q = api.Text(metadata={"description": "Part of the title"})
    status = api.Pick([s.value for s in CountermeasureStatus], any_case=True)
    type = api.Pick([t.value for t in CountermeasureType], any_case=True)
    owner = api.PageId("Owner's user id")
    threat = api.PageId("Id of a threat it treats")
    quarter = api.QuarterLabel(
        metadata={
            "description": "Counts in this quarter, e.g. FY20-21 Q2: deployed in it, or "
            "targeted at it while not deployed"
        }
    )
    technique = api.Text(metadata={"description": "Mitigates this ATT&CK technique (or a sub-one)"})
    control = api.Text(metadata={"description": "Implements this framework control"})
    as_of = api.PageDate(metadata={"description": "The technique or control mapped on this date"})
    sort = api.PageSort(cm_queries.SORTS, cm_queries.DEFAULT_SORT)


class CountermeasureSchema(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String()
    type = api.Choice(CountermeasureType)
    status = api.Choice(CountermeasureStatus)
    owner = fields.Function(lambda c: c.owner.name if c.owner else None, allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    target_quarter = fields.Function(
        lambda c: api.label_of_quarter(c.target_quarter_start),
        allow_none=True,
        metadata={"type": "string", "nullable": True},
    )
    planned_on = fields.Date()
    deployed_on = fields.Date(allow_none=True)
    deployed_quarter = fields.Function(
        lambda c: fiscal.quarter_of_date(c.deployed_on).label if c.deployed_on else None,
        allow_none=True,
        metadata={"type": "string", "nullable": True},
    )
    retired_on = fields.Date(allow_none=True)
    evidence = fields.String()
    verified_on = fields.Date(allow_none=True)
    effectiveness = api.Choice(Effectiveness, allow_none=True)
    threats = fields.List(fields.Nested(api.ThreatRef))
    version = fields.Integer(required=True)


class CountermeasureDetailSchema(CountermeasureSchema):
    status_history = fields.List(fields.Nested(api.StatusChangeSchema), attribute="status_changes")
    techniques = fields.Function(
        api._mapped_today("technique"),
        metadata={"type": "array", "items": {"type": "string"}, "description": "Mitigated"},
    )
    controls = fields.Function(
        api._mapped_today("control"),
        metadata={"type": "array", "items": {"type": "string"}, "description": "Implemented"},
    )
    warnings = api.Warnings()


class QuarterSchema(ma.Schema):
    quarter = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    countermeasures_deployed = fields.Integer(
        required=True, metadata={"description": "Deployed during the quarter"}
    )
    countermeasures_deployed_to_date = fields.Integer(
        required=True,
        metadata={"description": "Deployed from the fiscal year's first day to the quarter's last"},
    )
    top_threats = fields.List(
        fields.Nested(TopThreatSchema),
        metadata={
            "description": "The quarter's top threats (as many as the per-quarter target) as "
            "the register stood on its first day, with what was deployed against them"
        },
    )
    state = fields.String(
        validate=validate.OneOf(["in_progress", "over"]),
        metadata={"enum": ["in_progress", "over"], "description": "Running today, or ended"},
    )
    target = fields.Integer(metadata={"description": "Countermeasures to deploy per quarter"})
    goal = fields.Integer(
        metadata={"description": "Countermeasures to deploy over the fiscal year"}
    )
    slipped = fields.List(
        fields.Nested(api.ThreatRef),
        metadata={
            "description": "Planned for the quarter and not deployed in it (while it runs: "
            "not deployed yet), by title"
        },
    )


CountermeasurePage = api.page_schema(CountermeasureSchema, "CountermeasurePage")


# The steps a record of one as it stands brings (the CSV import), not a body's to give.
_RECORDED_ONLY = ("retired_on", "effectiveness", "verified_on")

CountermeasureCreate = body_of(CountermeasureInput, "CountermeasureCreate", _RECORDED_ONLY)

# Its status and plan date move through their own actions.
CountermeasureUpdate = body_of(
    CountermeasureInput,
    "CountermeasureUpdate",
    (*_RECORDED_ONLY, "status", "planned_on"),
    version=api.Version(),
    title=api.Text(),
    target_quarter=api.Text(allow_none=True),
    deployed_on=api.Day(
        allow_none=True,
        metadata={"description": "Corrects the deployment date of a deployed countermeasure"},
    ),
)


# The steps' bodies: their inputs and the version read; the status is the call's point.
CountermeasureStatusCreate = body_of(
    StatusChangeInput,
    "CountermeasureStatusCreate",
    version=api.Version(),
    status=api.Choice(CountermeasureStatus, required=True),
)
DeploymentCreate = body_of(DeploymentInput, "DeploymentCreate", version=api.Version())
# Refused by the rules, not the type, when none is given.
VerificationCreate = body_of(
    VerificationInput,
    "VerificationCreate",
    version=api.Version(),
    effectiveness=api.Choice(Effectiveness, allow_none=True),
)
