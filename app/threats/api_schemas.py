"""The API's schemas for threats: query strings, answers and request bodies."""

from __future__ import annotations

import marshmallow as ma
from flask import g
from marshmallow import fields, validate

from app.api.schemas import (
    FLAG,
    Choice,
    Day,
    ListArgs,
    PageDate,
    PageId,
    PageSort,
    Pick,
    QuarterLabel,
    Ref,
    Text,
    ThreatRef,
    Version,
    Warnings,
    _Body,
    _mapped_today,
    page_schema,
)
from app.domain.scoring import Level, level_for
from app.domain.scoring_methods import Method, inputs_for_reading
from app.inputs import Date, Named, OptionalId, body_of
from app.models import (
    ThreatSource,
    ThreatStatus,
    Treatment,
)
from app.threats import figures as threat_figures
from app.threats import queries as threat_queries
from app.threats.inputs import INPUTS_DOC, STORED_AS_READ, ThreatInput, input_field
from app.threats.inputs import Score as Score
from app.threats.risk import risk_matrix


class ThreatArgs(ListArgs):
    """The threat register page's filters (``app.threats.queries``)."""

    q = Text(
        metadata={
            "description": "Words of the title or description: each word typed must start a "
            "word of the threat (accents and case ignored), as on the threat list page"
        }
    )
    category = PageId("Threat category id")
    status = Pick([s.value for s in ThreatStatus])
    level = Pick([lv.value for lv in Level], "Level of the residual score")
    owner = PageId("Owner's user id")
    system = PageId("Id of a system the threat concerns")
    tag = Text(metadata={"description": "A tag (case ignored)"})
    overdue = Pick(FLAG, "1: open threats whose review date has passed")
    decision = Pick(FLAG, "1: accepted risks whose acceptance has expired")
    archived = Pick(FLAG, "1: archived threats instead of the register")
    kind = Pick(
        threat_figures.KINDS,
        "With l and i: the threats in one heat-map cell (inherent or residual scores)",
    )
    l = fields.Integer(  # noqa: E741 - the page's name
        validate=validate.Range(min=1, max=100), metadata={"description": "Cell likelihood"}
    )
    i = fields.Integer(
        validate=validate.Range(min=1, max=100), metadata={"description": "Cell impact"}
    )
    as_of = PageDate(
        metadata={"description": "The heat-map cell, or the technique's mappings, on this date"}
    )
    technique = Text(
        metadata={"description": "Mapped to this ATT&CK technique (or a sub-technique of it)"}
    )
    sort = PageSort(threat_queries.SORTS, threat_queries.DEFAULT_SORT)


def _matrix():
    if "risk_matrix" not in g:
        g.risk_matrix = risk_matrix()
    return g.risk_matrix


def _cell(kind: str) -> fields.Function:
    """A threat's inherent or residual cell and its score."""
    return fields.Function(
        lambda t: {
            "likelihood": getattr(t, f"{kind}_likelihood"),
            "impact": getattr(t, f"{kind}_impact"),
            "score": getattr(t, f"{kind}_score"),
        },
        metadata={"type": "object"},
    )


class Scores(ma.Schema):
    likelihood = fields.Integer(required=True)
    impact = fields.Integer(required=True)
    score = fields.Integer(required=True)


def _method_inputs(row) -> object:
    return inputs_for_reading(Method(row.scoring_method or "matrix"), row.scoring_inputs or "")


class MethodFields(ma.Schema):
    """How an assessment's inherent cell was found: on a threat and on each history row."""

    scoring_method = fields.String(
        metadata={
            "enum": [m.value for m in Method],
            "description": "How the inherent likelihood and impact were found",
        }
    )
    scoring_inputs = fields.Function(_method_inputs, metadata=INPUTS_DOC)
    method_score = fields.Float(
        allow_none=True,
        metadata={"description": "The method's own score (CVSS base score, DREAD mean)"},
    )
    method_rating = fields.String(
        metadata={"description": "The method's own rating (CVSS or OWASP severity)"}
    )


class ScoreChangeSchema(MethodFields):
    changed_on = fields.Date(required=True)
    inherent_likelihood = fields.Integer()
    inherent_impact = fields.Integer()
    inherent_score = fields.Integer()
    residual_likelihood = fields.Integer()
    residual_impact = fields.Integer()
    residual_score = fields.Integer()
    countermeasure_id = fields.Integer(allow_none=True)
    note = fields.String()
    method_explanation = fields.String(
        metadata={"description": "How the inputs became the cell, under the rules then in use"}
    )


class _ThreatFields(MethodFields):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String()
    category = fields.Function(lambda t: t.category.name if t.category else None, allow_none=True)
    category_id = fields.Integer(allow_none=True)
    source = Choice(ThreatSource)
    feed = fields.Function(lambda t: t.feed.name if t.feed else None, allow_none=True)
    feed_id = fields.Integer(allow_none=True)
    owner = fields.Function(lambda t: t.owner.name if t.owner else None, allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    status = Choice(ThreatStatus)
    treatment = Choice(Treatment, allow_none=True)
    treatment_rationale = fields.String()
    acceptance_approver_id = fields.Integer(allow_none=True)
    acceptance_expires_on = fields.Date(allow_none=True)
    identified_on = fields.Date()
    next_review_on = fields.Date(allow_none=True)
    inherent = _cell("inherent")
    residual = _cell("residual")
    level = fields.Function(
        lambda t: level_for(t.residual_score, _matrix()).value,
        metadata={"type": "string", "enum": ["low", "medium", "high", "critical"]},
    )
    systems = fields.List(fields.Nested(Ref))
    tags = fields.Function(lambda t: [tag.name for tag in t.tags], metadata={"type": "array"})
    archived = fields.Function(lambda t: t.archived_at is not None, metadata={"type": "boolean"})
    version = fields.Integer(required=True)


def _answer(name: str) -> fields.Field:
    """A value the threat stores as read, answered as stored."""
    field = input_field(name)
    if isinstance(field, Named):
        return Choice(field.enum_cls, allow_none=True)
    if isinstance(field, Date):
        return fields.Date(allow_none=True)
    if isinstance(field, OptionalId):
        return fields.Integer(allow_none=True)
    return fields.String()


class ThreatSchema(_ThreatFields):
    class Meta:
        # A field of the input schema stored as read is answered, unless laid out above.
        include = {
            name: _answer(name)
            for name in STORED_AS_READ
            if name not in _ThreatFields._declared_fields
        }


class ThreatStateSchema(ma.Schema):
    """One dated state of a threat: status, archival, treatment and next review from a day."""

    changed_on = fields.Date()
    superseded_on = fields.Date(allow_none=True)
    kind = fields.Function(lambda c: c.kind.value, metadata={"type": "string"})
    status = Choice(ThreatStatus)
    archived = fields.Boolean()
    treatment = Choice(Treatment, allow_none=True)
    acceptance_expires_on = fields.Date(allow_none=True)
    next_review_on = fields.Date(allow_none=True)
    author_id = fields.Integer(allow_none=True)
    note = fields.String()


class ThreatDetailSchema(ThreatSchema):
    score_history = fields.List(fields.Nested(ScoreChangeSchema), attribute="score_changes")
    state_history = fields.List(fields.Nested(ThreatStateSchema), attribute="state_changes")
    techniques = fields.Function(
        _mapped_today("threat"),
        metadata={"type": "array", "items": {"type": "string"}, "description": "ATT&CK, today"},
    )
    warnings = Warnings()


class TopThreatSchema(ma.Schema):
    rank = fields.Integer(
        required=True,
        metadata={
            "description": "1 = highest residual score on the date; ties go to the higher "
            "inherent score, then the threat identified earlier, then the lower id"
        },
    )
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    inherent_score = fields.Integer()
    residual_score = fields.Integer()
    level = fields.String()
    treated = fields.Boolean(
        metadata={"description": "A countermeasure treating it was deployed in the quarter"}
    )
    countermeasures = fields.List(
        fields.Nested(ThreatRef), metadata={"description": "Deployed against it in the quarter"}
    )


class HeatCellSchema(ma.Schema):
    likelihood = fields.Integer(required=True)
    impact = fields.Integer(required=True)
    count = fields.Integer(required=True)
    threat_ids = fields.List(fields.Integer(), metadata={"description": "The cell's threats"})


class HeatmapArgs(ma.Schema):
    kind = fields.String(
        load_default="residual",
        validate=validate.OneOf(threat_figures.KINDS),
        metadata={"enum": list(threat_figures.KINDS), "description": "Default residual"},
    )
    quarter = QuarterLabel(
        metadata={"description": "As of the last day of this ended quarter, e.g. FY20-21 Q2"}
    )
    date = Day(metadata={"description": "As of this day (default: today); not with quarter"})

    @ma.validates_schema
    def one_date(self, data, **kwargs):
        if "quarter" in data and "date" in data:
            raise ma.ValidationError("Give a quarter or a date, not both.", "date")


class HeatmapSchema(ma.Schema):
    kind = fields.String(required=True)
    as_of = fields.Date(required=True)
    total = fields.Integer(required=True)
    cells = fields.List(
        fields.Nested(HeatCellSchema),
        metadata={"description": "Every cell of the risk matrix, by likelihood then impact"},
    )


class TopArgs(ma.Schema):
    date = Day(metadata={"description": "As of this day (default: today)"})
    n = fields.Integer(
        load_default=5,
        validate=validate.Range(min=1, max=50),
        metadata={"description": "How many, 1 to 50 (default 5)"},
    )


class RankedThreatSchema(ma.Schema):
    rank = TopThreatSchema._declared_fields["rank"]
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    inherent_score = fields.Integer()
    residual_score = fields.Integer()
    level = fields.String()


class TopSchema(ma.Schema):
    as_of = fields.Date(required=True)
    threats = fields.List(fields.Nested(RankedThreatSchema))


ThreatPage = page_schema(ThreatSchema, "ThreatPage")


# The request bodies: the threat's input schema (``app.threats.inputs``), in JSON.
ThreatCreate = body_of(ThreatInput, "ThreatCreate", exclude=("status_changed_on",))
ThreatUpdate = body_of(ThreatInput, "ThreatUpdate", version=Version(), title=Text())


class DatedAction(_Body):
    on = Day(allow_none=True, metadata={"description": "Effective on (default today)"})


class ThreatReview(_Body):
    reviewed_on = Day(allow_none=True, metadata={"description": "Default today"})
    outcome = Text()
    next_review_on = Day(
        allow_none=True, metadata={"description": "Default: the residual level's interval"}
    )
