"""The API's schemas for systems, staff, responsibilities, positions and coverage:
query strings, answers and request bodies."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.api.schemas import (
    LEFT_ON,
    RETIRED_ON,
    SINCE,
    UNTIL,
    Choice,
    Day,
    Id,
    ListArgs,
    LongText,
    PageArgs,
    PageDate,
    PageSort,
    Pick,
    RecordAnswer,
    RecordSchemas,
    Ref,
    StatusChangeSchema,
    Text,
    Version,
    _Body,
    page_schema,
)
from app.coverage import queries as coverage_queries
from app.coverage.inputs import (
    DATED,
    PERIOD,
    POSITION,
    POSITION_EDIT,
    RESPONSIBILITY,
    PositionInput,
    ResponsibilityInput,
    StaffMemberInput,
    SystemInput,
)
from app.inputs import body_of
from app.models import (
    Criticality,
    PositionStatus,
    ResponsibilityKind,
)


class SystemArgs(ListArgs):
    """The systems page's filters (``app.coverage.queries.systems_list_query``)."""

    q = Text(metadata={"description": "Part of the name or description"})
    team = Text()
    criticality = Pick([c.name for c in Criticality])
    production = Pick(["yes", "no"], "In production")
    show = Pick(["current", "retired", "all"], "In service on the date (default), retired, all")
    state = Pick(coverage_queries.STATES, "Coverage on the date")
    date = PageDate(metadata={"description": "As of this date (default: today)"})
    sort = PageSort([*coverage_queries.SYSTEM_SORTS, "people"], "name")


class StaffArgs(ListArgs):
    """The staff page's filters (``app.coverage.queries.staff_list_query``)."""

    q = Text(metadata={"description": "Part of the name or email"})
    team = Text()
    status = Pick(["present", "left", "all"], "Present today (default), left, all")
    sole = Pick(["yes"], "yes: solely responsible for a production system today")
    sort = PageSort([*coverage_queries.STAFF_SORTS, "sole"], "name")


class ResponsibilityArgs(PageArgs):
    staff_member_id = Id()
    system_id = Id()
    kind = Choice(ResponsibilityKind)
    on = Day(metadata={"description": "Only responsibilities held on this date"})


class PositionArgs(PageArgs):
    status = Choice(PositionStatus)
    team = Text()


class CoverageArgs(ma.Schema):
    date = Day(metadata={"description": "As of this date (default: today)"})


class SystemSchema(RecordAnswer):
    name = fields.String(required=True)
    description = fields.String()
    team = fields.String()
    criticality = Choice(Criticality)
    in_production = fields.Boolean()
    retired_on = fields.Date(allow_none=True, metadata={"description": RETIRED_ON})


class StaffSchema(RecordAnswer):
    name = fields.String(required=True)
    email = fields.String(allow_none=True)
    team = fields.String()
    active = fields.Boolean()
    left_on = fields.Date(allow_none=True, metadata={"description": LEFT_ON})
    user_id = fields.Integer(allow_none=True)


class ResponsibilitySchema(RecordAnswer):
    staff_member = fields.Nested(Ref)
    system = fields.Nested(Ref)
    kind = Choice(ResponsibilityKind)
    since = fields.Date(metadata={"description": SINCE})
    until = fields.Date(allow_none=True, metadata={"description": UNTIL})


class PositionSchema(RecordAnswer):
    title = fields.String(required=True)
    team = fields.String()
    status = Choice(PositionStatus)
    opened_on = fields.Date()
    filled_on = fields.Date(allow_none=True)
    hire = fields.Nested(Ref, allow_none=True)
    systems = fields.List(fields.Nested(Ref))
    notes = fields.String()
    status_history = fields.List(fields.Nested(StatusChangeSchema), attribute="status_changes")


class SystemCoverageSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    state = fields.String(validate=validate.OneOf(["uncovered", "spof", "covered"]))
    staff_ids = fields.List(fields.Integer())


class SoleResponsibleSchema(ma.Schema):
    staff_member = fields.Nested(Ref)
    systems = fields.List(fields.Nested(Ref))


class CoverageSchema(ma.Schema):
    as_of = fields.Date(required=True)
    spof_staff_count = fields.Integer(required=True)
    spof_system_count = fields.Integer(required=True)
    uncovered_count = fields.Integer(required=True)
    covered_count = fields.Integer(required=True)
    sole_responsible = fields.List(fields.Nested(SoleResponsibleSchema))
    uncovered_systems = fields.List(fields.Nested(Ref))
    systems = fields.List(fields.Nested(SystemCoverageSchema))


# The API documents the date rules the forms state beside the field.
SystemCreate = body_of(
    SystemInput,
    "SystemCreate",
    DATED,
    retired_on=Day(allow_none=True, metadata={"description": RETIRED_ON}),
)
SystemUpdate = body_of(
    SystemInput,
    "SystemUpdate",
    version=Version(),
    name=Text(),
    retired_on=Day(allow_none=True, metadata={"description": RETIRED_ON}),
)


# A staff member's email may be null; the leaving date's rule as the form states it.
_STAFF_FIELDS: dict[str, fields.Field] = {
    "email": Text(allow_none=True),
    "left_on": Day(allow_none=True, metadata={"description": LEFT_ON}),
}
StaffCreate = body_of(StaffMemberInput, "StaffCreate", (), **_STAFF_FIELDS)
StaffUpdate = body_of(
    StaffMemberInput,
    "StaffUpdate",
    (),
    version=Version(),
    name=Text(),
    **_STAFF_FIELDS,
    confirm_impact=fields.Boolean(
        metadata={
            "description": "Save a leaving date even though it leaves production systems "
            "uncovered or with a single person (otherwise 422 names them)."
        }
    ),
)


# Their periods as the API documents them (no start: today).
_SINCE = Day(allow_none=True, metadata={"description": SINCE + " (default: today)"})
_UNTIL = Day(allow_none=True, metadata={"description": UNTIL})
ResponsibilityCreate = body_of(
    ResponsibilityInput, "ResponsibilityCreate", since=_SINCE, until=_UNTIL
)
ResponsibilityUpdate = body_of(
    ResponsibilityInput,
    "ResponsibilityUpdate",
    tuple(name for name in RESPONSIBILITY if name not in PERIOD),
    version=Version(),
    since=_SINCE,
    until=_UNTIL,
    confirm_impact=fields.Boolean(
        metadata={"description": "Save an end date even though it creates a SPOF."}
    ),
)


PositionCreate = body_of(PositionInput, "PositionCreate")
PositionUpdate = body_of(
    PositionInput,
    "PositionUpdate",
    tuple(name for name in POSITION if name not in POSITION_EDIT),
    version=Version(),
    title=Text(),
)


SYSTEM = RecordSchemas(
    SystemSchema, page_schema(SystemSchema, "SystemPage"), SystemArgs, SystemCreate, SystemUpdate
)
STAFF = RecordSchemas(
    StaffSchema, page_schema(StaffSchema, "StaffPage"), StaffArgs, StaffCreate, StaffUpdate
)
RESPONSIBILITY_SCHEMAS = RecordSchemas(
    ResponsibilitySchema,
    page_schema(ResponsibilitySchema, "ResponsibilityPage"),
    ResponsibilityArgs,
    ResponsibilityCreate,
    ResponsibilityUpdate,
)
POSITION_SCHEMAS = RecordSchemas(
    PositionSchema,
    page_schema(PositionSchema, "PositionPage"),
    PositionArgs,
    PositionCreate,
    PositionUpdate,
)


class PositionStatusCreate(_Body):
    version = Version()
    status = Choice(PositionStatus, required=True)
    changed_on = Day(allow_none=True)
    note = LongText()
    hire_id = Id(allow_none=True, metadata={"description": "The staff member hired (filled)"})
    new_hire_name = Text(metadata={"description": "Or the name of a new staff member"})
    add_responsibilities = fields.Boolean(
        load_default=True,
        metadata={"description": "Make the hire responsible for the position's systems"},
    )
    confirm_backwards = fields.Boolean(
        metadata={
            "description": "Record a step back (a filled position back to planned; otherwise "
            "422 says what it undoes)"
        }
    )
