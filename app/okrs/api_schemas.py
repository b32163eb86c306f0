"""The API's schemas for objectives and key results: query strings, answers and request bodies."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app import fiscal
from app.api.schemas import (
    MAX_ID,
    Choice,
    FiscalYearLabel,
    LongText,
    Text,
    Version,
    _Body,
    label_of_quarter,
)
from app.domain.quarters import fiscal_year_label
from app.models import (
    GoalDirection,
    Rating,
)


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


class KeyResultSchema(ma.Schema):
    id = fields.Integer(required=True)
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
    version = fields.Integer()


class ObjectiveSchema(ma.Schema):
    id = fields.Integer(required=True)
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
    version = fields.Integer()


class OkrYearSchema(ma.Schema):
    fiscal_year = fields.String(required=True)
    objectives = fields.List(fields.Nested(ObjectiveSchema))


# ---- OKRs ------------------------------------------------------------------------------


class ObjectiveCreate(_Body):
    title = Text(metadata={"description": "Required, e.g. Front Line Defenses"})
    statement = LongText()
    department = Text()
    fiscal_year = FiscalYearLabel(metadata={"description": "Required, e.g. FY20-21"})
    target_completion = Text()
    position = fields.Integer(
        validate=validate.Range(min=0, max=10_000),
        metadata={"description": "Place on the page, 0 to 10,000"},
    )


class ObjectiveUpdate(ObjectiveCreate):
    version = Version()


class KeyResultCreate(_Body):
    code = Text(metadata={"description": "e.g. KR3, unique within the objective"})
    statement = LongText(metadata={"description": "Required"})
    baseline_text = LongText()
    baseline_value = fields.Float(allow_none=True, allow_nan=False)
    goal_text = LongText()
    goal_value = fields.Float(allow_none=True, allow_nan=False)
    goal_unit = Text()
    goal_direction = Choice(GoalDirection, allow_none=True)
    metric = Text(
        allow_none=True,
        metadata={"description": "A metric the register computes, the quarterly value's source"},
    )
    baseline_quarter = Text(
        allow_none=True,
        metadata={
            "description": "e.g. FY20-21 Q1: the quarter of the objective's fiscal year at whose "
            "end the baseline stands (per-quarter targets apply after it); empty or null for "
            "the fiscal year's start"
        },
    )
    position = fields.Integer(validate=validate.Range(min=0, max=10_000))


class KeyResultUpdate(KeyResultCreate):
    version = Version()


class StatusWrite(_Body):
    quarter = Text(
        required=True,
        metadata={
            "description": "A started quarter of the objective's fiscal year, e.g. FY20-21 Q2"
        },
    )
    text = LongText(metadata={"description": "Required: the cell as the table shows it"})
    value = fields.Float(allow_none=True, allow_nan=False)
    rating = Choice(Rating, allow_none=True)
    version = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={
            "description": "Rewriting a quarter's status: the version you read (409 if it "
            "changed since, or if you leave it out)"
        },
    )
