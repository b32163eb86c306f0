"""The API's schemas for objectives and key results: query strings, answers and request bodies."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app import fiscal
from app.api.schemas import (
    MAX_ID,
    Choice,
    FiscalYearLabel,
    Text,
    Version,
    label_of_quarter,
)
from app.domain.quarters import fiscal_year_label
from app.inputs import body_of
from app.models import (
    GoalDirection,
    Rating,
)
from app.okrs.inputs import KeyResultInput, ObjectiveInput, StatusInput


class OkrArgs(ma.Schema):
    year = FiscalYearLabel(
        metadata={"description": "Fiscal year, e.g. FY20-21 (default: the current one)"}
    )


class KeyResultStatusSchema(ma.Schema):
    quarter = fields.Function(
        lambda s: label_of_quarter(s.quarter_start), metadata={"type": "string"}
    )
    text = fields.String()
    value = fields.Float(allow_none=True)
    rating = Choice(Rating, allow_none=True)
    version = fields.Integer()


def _baseline_quarter_label(key_result) -> str:
    from app.okrs.service import baseline_quarter_label

    return baseline_quarter_label(key_result)


class _Answered(ma.Schema):
    """An objective or a key result as answered: its ``version`` is what a change sends."""

    id = fields.Integer(required=True)
    version = fields.Integer()


class KeyResultSchema(_Answered):
    code = fields.String()
    statement = fields.String()
    baseline_text = fields.String()
    baseline_value = fields.Float(allow_none=True)
    goal_text = fields.String()
    goal_value = fields.Float(allow_none=True)
    goal_unit = fields.String()
    metric = fields.String(allow_none=True)
    goal_direction = Choice(GoalDirection, allow_none=True)
    baseline_quarter = fields.Function(
        lambda kr: _baseline_quarter_label(kr) or None,
        metadata={"description": "Where the baseline stands; null: the fiscal year's start"},
    )
    objective_id = fields.Integer()
    statuses = fields.List(fields.Nested(KeyResultStatusSchema))


class ObjectiveSchema(_Answered):
    title = fields.String()
    statement = fields.String()
    department = fields.String()
    target_completion = fields.String()
    fiscal_year = fields.Function(
        lambda o: fiscal_year_label(o.fiscal_year, fiscal.start_month()),
        metadata={"type": "string"},
    )
    position = fields.Integer()
    key_results = fields.List(fields.Nested(KeyResultSchema))


class OkrYearSchema(ma.Schema):
    fiscal_year = fields.String(required=True)
    objectives = fields.List(fields.Nested(ObjectiveSchema))


# ---- OKRs ------------------------------------------------------------------------------


ObjectiveCreate = body_of(ObjectiveInput, "ObjectiveCreate")
ObjectiveUpdate = body_of(ObjectiveInput, "ObjectiveUpdate", version=Version())
_BASELINE_QUARTER = Text(
    allow_none=True,
    metadata={
        "description": "e.g. FY20-21 Q1: the quarter of the objective's fiscal year at whose "
        "end the baseline stands (per-quarter targets apply after it); empty or null for "
        "the fiscal year's start"
    },
)
KeyResultCreate = body_of(KeyResultInput, "KeyResultCreate", baseline_quarter=_BASELINE_QUARTER)
KeyResultUpdate = body_of(
    KeyResultInput, "KeyResultUpdate", baseline_quarter=_BASELINE_QUARTER, version=Version()
)
StatusWrite = body_of(
    StatusInput,
    "StatusWrite",
    quarter=Text(
        required=True,
        metadata={
            "description": "A started quarter of the objective's fiscal year, e.g. FY20-21 Q2"
        },
    ),
    version=fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={
            "description": "Rewriting a quarter's status: the version you read (409 if it "
            "changed since, or if you leave it out)"
        },
    ),
)
