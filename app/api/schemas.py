"""What the API reads and answers (marshmallow); the OpenAPI document is built from these."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date

import marshmallow as ma
from flask import g
from marshmallow import fields, validate

from app import fiscal
from app.countermeasures import queries as cm_queries
from app.coverage import queries as coverage_queries
from app.domain.quarters import fiscal_year_label
from app.domain.scoring import Level, level_for
from app.domain.scoring_methods import Method, inputs_for_reading
from app.models import (
    CountermeasureStatus,
    CountermeasureType,
    Criticality,
    Effectiveness,
    GoalDirection,
    PositionStatus,
    Rating,
    ResponsibilityKind,
    ThreatSource,
    ThreatStatus,
    Treatment,
)
from app.models.deletions import TOMBSTONED
from app.threats import figures as threat_figures
from app.threats import queries as threat_queries
from app.threats.risk import risk_matrix

MAX_ID = 2**31 - 1
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)


# The date rules of the forms, stated on every field they govern.
RETIRED_ON = (
    "The first day out of service (exclusive): in service up to the day before; null: in service"
)
LEFT_ON = "The last working day (inclusive): present that day, gone from the next; null: staying"
SINCE = "The first day held (inclusive)"
UNTIL = "The last day held (inclusive); null: still held"


def _no_nul(value: str) -> bool:
    # PostgreSQL refuses NUL characters in text; refuse them here with a 422 instead.
    if "\x00" in value:
        raise ma.ValidationError("Must not contain NUL characters.")
    return True


def Text(**kwargs) -> fields.String:  # noqa: N802 - a field factory, used like a class
    return fields.String(validate=[validate.Length(max=200), _no_nul], **kwargs)


def Id(**kwargs) -> fields.Integer:  # noqa: N802
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def Day(**kwargs) -> fields.Date:  # noqa: N802
    return fields.Date(validate=validate.Range(min=EARLIEST, max=LATEST), **kwargs)


def Choice(enum_cls, **kwargs) -> fields.Enum:  # noqa: N802
    return fields.Enum(enum_cls, by_value=True, **kwargs)


# Labels as the fiscal calendar writes them: "FY20-21 Q2" ("FY2021 Q2" with a January start).
_YEAR_PATTERN = r"FY\s*(\d{2}\s*-\s*\d{2}|\d{4})"
QUARTER_PATTERN = r"^\s*" + _YEAR_PATTERN + r"(\s*[-_]\s*|\s+)Q\s*[1-4]\s*$"
YEAR_PATTERN = r"^\s*" + _YEAR_PATTERN + r"\s*$"


class _Label(fields.String):
    pattern = ""

    def __init__(self, **kwargs):
        metadata = {"pattern": self.pattern, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            if not re.match(self.pattern, text):
                raise ValueError(f'"{text[:40]}" is not a label like FY20-21 Q2.')
            return self.parse(text)
        except ValueError as error:
            raise ma.ValidationError(str(error)) from None


class QuarterLabel(_Label):
    """A fiscal quarter label, loaded as a Quarter (a clear 422 when it is not one)."""

    pattern = QUARTER_PATTERN

    def parse(self, text):
        return fiscal.parse_quarter(text, fiscal.start_month())


class FiscalYearLabel(_Label):
    """A fiscal year label such as FY20-21, loaded as the year it starts in."""

    pattern = YEAR_PATTERN

    def parse(self, text):
        return fiscal.parse_fiscal_year(text, fiscal.start_month())


# ---- query strings -----------------------------------------------------------------


def _plausible_instant(when) -> bool:
    if not EARLIEST.year < when.year < LATEST.year:
        raise ma.ValidationError("Use an instant between the years 1901 and 2998.")
    return True


class PageArgs(ma.Schema):
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=1_000_000),
        metadata={"description": "Numbered paging, in the list's sort (1 to 1,000,000)"},
    )
    per_page = fields.Integer(
        load_default=25,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "Items per page, 1 to 1,000 (default 25)"},
    )
    after = fields.Integer(
        validate=validate.Range(min=0, max=MAX_ID),
        metadata={
            "description": "Keyset paging: the items whose id is above this one, in id order "
            "(start with after=0, then follow the next link). As fast on the last page as on "
            "the first; rows added meanwhile come at the end, nothing repeats or is skipped. "
            "Not with page, before or sort."
        },
    )
    before = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Keyset paging backwards: the items whose id is below this one"},
    )
    updated_since = fields.DateTime(
        validate=_plausible_instant,
        metadata={
            "description": "Only what was created or changed at or after this instant "
            "(ISO 8601; UTC when no offset is given), archived or retired records included "
            "when include_archived=1; records deleted since are listed by /api/v1/deletions "
            "with the same updated_since. Start the next sync from the synced_at of the "
            "first page of this one."
        },
    )
    include_archived = fields.String(
        validate=validate.OneOf(["0", "1"]),
        metadata={
            "enum": ["0", "1"],
            "description": "1: archived threats, retired systems and staff who left are "
            "listed with the others (a sync sees archivals)",
        },
    )

    @ma.validates_schema(pass_original=True)
    def one_way_of_paging(self, data, original, **kwargs):
        keyset = [k for k in ("after", "before") if k in data]
        if len(keyset) == 2:
            raise ma.ValidationError("Use after or before, not both.", "before")
        if keyset and "page" in original:
            raise ma.ValidationError("Use page or after/before, not both.", "page")
        if keyset and original.get("sort"):
            raise ma.ValidationError("Keyset paging (after/before) walks in id order.", "sort")


# The list endpoints take the list pages' own query string (``app/*/queries.py`` reads it
# for the page, the CSV export and the API alike): these schemas document and check it,
# and the endpoints hand the request's query string itself to the page's query function.


class ListArgs(PageArgs):
    @ma.pre_load
    def drop_empty(self, data, **kwargs):
        # A page's form sends "Any" as an empty value (``?status=&category=``): no filter.
        return {key: value for key, value in data.items() if value != ""}


def Pick(values, description: str = "", any_case: bool = False) -> fields.String:  # noqa: N802
    """One of the page's values for a filter (``any_case``: as the page, case ignored)."""
    values = [str(v) for v in values]
    rule: Callable[[str], object]
    if any_case:
        wanted = {v.lower() for v in values}

        def check(text: str) -> bool:
            if text.strip().lower() not in wanted:
                raise ma.ValidationError(f"Must be one of: {', '.join(values)}.")
            return True

        rule = check
    else:
        rule = validate.OneOf(values)
    return fields.String(validate=rule, metadata={"enum": values, "description": description})


def PageSort(keys, default: str) -> fields.String:  # noqa: N802
    keys = list(keys)
    return Pick(
        keys + [f"-{k}" for k in keys],
        f"Sort key as on the list page (default {default}); a leading '-' sorts descending. "
        "Numbered pages only: keyset paging (after/before) walks in id order, and a sort "
        "with it is a 422.",
    )


class PageDate(fields.String):
    """An ISO date read as the pages read it (``fiscal.parse_date_or_none``): 422 if not."""

    def __init__(self, **kwargs):
        metadata = {"format": "date", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            fiscal.parse_date_or_none(text)
        except ValueError as error:
            raise ma.ValidationError(str(error)) from None
        return text


def PageId(description: str) -> fields.Integer:  # noqa: N802
    return Id(metadata={"description": description})


FLAG = ["0", "1"]


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


class CountermeasureArgs(ListArgs):
    """The countermeasures page's filters (``app.countermeasures.queries``)."""

    q = Text(metadata={"description": "Part of the title"})
    status = Pick([s.value for s in CountermeasureStatus], any_case=True)
    type = Pick([t.value for t in CountermeasureType], any_case=True)
    owner = PageId("Owner's user id")
    threat = PageId("Id of a threat it treats")
    quarter = QuarterLabel(
        metadata={
            "description": "Counts in this quarter, e.g. FY20-21 Q2: deployed in it, or "
            "targeted at it while not deployed"
        }
    )
    technique = Text(metadata={"description": "Mitigates this ATT&CK technique (or a sub-one)"})
    control = Text(metadata={"description": "Implements this framework control"})
    as_of = PageDate(metadata={"description": "The technique or control mapped on this date"})
    sort = PageSort(cm_queries.SORTS, cm_queries.DEFAULT_SORT)


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


class DeletionArgs(PageArgs):
    class Meta:
        exclude = ("include_archived",)

    updated_since = fields.DateTime(
        validate=_plausible_instant,
        metadata={
            "description": "Only deletions at or after this instant (ISO 8601; UTC when no "
            "offset is given): the updated_since a sync reads the lists with"
        },
    )
    entity = Pick(TOMBSTONED, "Only the records deleted from this list")


class OkrArgs(ma.Schema):
    year = FiscalYearLabel(
        metadata={"description": "Fiscal year, e.g. FY20-21 (default: the current one)"}
    )


class CoverageArgs(ma.Schema):
    date = Day(metadata={"description": "As of this date (default: today)"})


# ---- answers -----------------------------------------------------------------------


class Ref(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class ThreatRef(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)


def _matrix():
    if "risk_matrix" not in g:
        g.risk_matrix = risk_matrix()
    return g.risk_matrix


def _quarter_label(first_day: date | None) -> str | None:
    return fiscal.quarter_starting(first_day).label if first_day else None


class Scores(ma.Schema):
    likelihood = fields.Integer(required=True)
    impact = fields.Integer(required=True)
    score = fields.Integer(required=True)


def _method_inputs(row) -> object:
    return inputs_for_reading(Method(row.scoring_method or "matrix"), row.scoring_inputs or "")


_INPUTS_DOC = {
    "oneOf": [
        {"type": "string"},
        {"type": "object", "additionalProperties": {"type": "integer"}},
        {"type": "null"},
    ],
    "description": "The scoring method's inputs: the CVSS vector, or the OWASP or DREAD "
    "factors by name; null for likelihood × impact",
}


class ScoreChangeSchema(ma.Schema):
    changed_on = fields.Date(required=True)
    inherent_likelihood = fields.Integer()
    inherent_impact = fields.Integer()
    inherent_score = fields.Integer()
    residual_likelihood = fields.Integer()
    residual_impact = fields.Integer()
    residual_score = fields.Integer()
    countermeasure_id = fields.Integer(allow_none=True)
    note = fields.String()
    scoring_method = fields.String(
        metadata={
            "enum": [m.value for m in Method],
            "description": "How the inherent likelihood and impact were found",
        }
    )
    scoring_inputs = fields.Function(_method_inputs, metadata=_INPUTS_DOC)
    method_score = fields.Float(
        allow_none=True,
        metadata={"description": "The method's own score (CVSS base score, DREAD mean)"},
    )
    method_rating = fields.String(
        metadata={"description": "The method's own rating (CVSS or OWASP severity)"}
    )
    method_explanation = fields.String(
        metadata={"description": "How the inputs became the cell, under the rules then in use"}
    )


class ThreatSchema(ma.Schema):
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
    inherent = fields.Function(
        lambda t: {
            "likelihood": t.inherent_likelihood,
            "impact": t.inherent_impact,
            "score": t.inherent_score,
        },
        metadata={"type": "object"},
    )
    residual = fields.Function(
        lambda t: {
            "likelihood": t.residual_likelihood,
            "impact": t.residual_impact,
            "score": t.residual_score,
        },
        metadata={"type": "object"},
    )
    level = fields.Function(
        lambda t: level_for(t.residual_score, _matrix()).value,
        metadata={"type": "string", "enum": ["low", "medium", "high", "critical"]},
    )
    scoring_method = fields.String(
        metadata={
            "enum": [m.value for m in Method],
            "description": "How the inherent likelihood and impact were found",
        }
    )
    scoring_inputs = fields.Function(_method_inputs, metadata=_INPUTS_DOC)
    method_score = fields.Float(
        allow_none=True,
        metadata={"description": "The method's own score (CVSS base score, DREAD mean)"},
    )
    method_rating = fields.String(
        metadata={"description": "The method's own rating (CVSS or OWASP severity)"}
    )
    systems = fields.List(fields.Nested(Ref))
    tags = fields.Function(lambda t: [tag.name for tag in t.tags], metadata={"type": "array"})
    archived = fields.Function(lambda t: t.archived_at is not None, metadata={"type": "boolean"})
    version = fields.Integer(required=True)


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


def _mapped_today(kind: str):
    """The catalogue refs a record is mapped to today (its dated history and the write:
    /threats/<id>/techniques, /countermeasures/<id>/mappings)."""

    def read(record) -> list[str]:
        from app.catalogues.queries import mapped_refs_today

        return mapped_refs_today(kind, record.id)

    return read


class PublishedReportWarning(ma.Schema):
    objective = fields.String(required=True, metadata={"description": "The objective reported"})
    quarter = fields.String(required=True, metadata={"example": "FY20-21 Q2"})
    published_on = fields.Date(required=True)
    message = fields.String(required=True)


def Warnings() -> fields.List:  # noqa: N802 - a field factory, used like a class
    return fields.List(
        fields.Nested(PublishedReportWarning),
        attribute="published_warnings",
        dump_only=True,
        metadata={
            "description": (
                "In the answer to a write only: the published quarter reports this change "
                "makes differ from the live figures (a change dated on or before a published "
                "quarter's last day corrects it). Empty when it touches none. The change is "
                "saved either way; the reports page shows live now vs published."
            )
        },
    )


class ThreatDetailSchema(ThreatSchema):
    score_history = fields.List(fields.Nested(ScoreChangeSchema), attribute="score_changes")
    state_history = fields.List(fields.Nested(ThreatStateSchema), attribute="state_changes")
    techniques = fields.Function(
        _mapped_today("threat"),
        metadata={"type": "array", "items": {"type": "string"}, "description": "ATT&CK, today"},
    )
    warnings = Warnings()


class StatusChangeSchema(ma.Schema):
    status = fields.Function(lambda c: c.status.value, metadata={"type": "string"})
    changed_on = fields.Date()


class CountermeasureSchema(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String()
    type = Choice(CountermeasureType)
    status = Choice(CountermeasureStatus)
    owner = fields.Function(lambda c: c.owner.name if c.owner else None, allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    target_quarter = fields.Function(
        lambda c: _quarter_label(c.target_quarter_start),
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
    effectiveness = Choice(Effectiveness, allow_none=True)
    threats = fields.List(fields.Nested(ThreatRef))
    version = fields.Integer(required=True)


class CountermeasureDetailSchema(CountermeasureSchema):
    status_history = fields.List(fields.Nested(StatusChangeSchema), attribute="status_changes")
    techniques = fields.Function(
        _mapped_today("technique"),
        metadata={"type": "array", "items": {"type": "string"}, "description": "Mitigated"},
    )
    controls = fields.Function(
        _mapped_today("control"),
        metadata={"type": "array", "items": {"type": "string"}, "description": "Implemented"},
    )
    warnings = Warnings()


class SystemSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String()
    team = fields.String()
    criticality = Choice(Criticality)
    in_production = fields.Boolean()
    retired_on = fields.Date(allow_none=True, metadata={"description": RETIRED_ON})
    version = fields.Integer(required=True)
    warnings = Warnings()


class StaffSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(allow_none=True)
    team = fields.String()
    active = fields.Boolean()
    left_on = fields.Date(allow_none=True, metadata={"description": LEFT_ON})
    user_id = fields.Integer(allow_none=True)
    version = fields.Integer(required=True)
    warnings = Warnings()


class ResponsibilitySchema(ma.Schema):
    id = fields.Integer(required=True)
    staff_member = fields.Nested(Ref)
    system = fields.Nested(Ref)
    kind = Choice(ResponsibilityKind)
    since = fields.Date(metadata={"description": SINCE})
    until = fields.Date(allow_none=True, metadata={"description": UNTIL})
    version = fields.Integer(required=True)
    warnings = Warnings()


class PositionSchema(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    team = fields.String()
    status = Choice(PositionStatus)
    opened_on = fields.Date()
    filled_on = fields.Date(allow_none=True)
    hire = fields.Nested(Ref, allow_none=True)
    systems = fields.List(fields.Nested(Ref))
    notes = fields.String()
    status_history = fields.List(fields.Nested(StatusChangeSchema), attribute="status_changes")
    version = fields.Integer(required=True)
    warnings = Warnings()


class KeyResultStatusSchema(ma.Schema):
    quarter = fields.Function(
        lambda s: _quarter_label(s.quarter_start), metadata={"type": "string"}
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
        fields.Nested(ThreatRef),
        metadata={
            "description": "Planned for the quarter and not deployed in it (while it runs: "
            "not deployed yet), by title"
        },
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


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    return type(
        name,
        (ma.Schema,),
        {
            "items": fields.List(fields.Nested(item), required=True),
            "page": fields.Integer(
                allow_none=True, metadata={"description": "null with keyset paging"}
            ),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(
                allow_none=True,
                metadata={"description": "null on keyset pages after the first (after > 0)"},
            ),
            "pages": fields.Integer(allow_none=True),
            "next": fields.String(
                allow_none=True, metadata={"description": "The next page (also in Link)"}
            ),
            "prev": fields.String(
                allow_none=True, metadata={"description": "The previous page (also in Link)"}
            ),
            "synced_at": fields.AwareDateTime(
                metadata={"description": "When this page was read: updated_since of a next sync"}
            ),
        },
    )


class UtcDateTime(fields.AwareDateTime):
    """An instant stored as UTC, answered with its offset (SQLite gives it back without)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class DeletionSchema(ma.Schema):
    id = fields.Integer(
        required=True, metadata={"description": "The deletion's own number (keyset paging)"}
    )
    entity = fields.String(
        required=True,
        metadata={"enum": list(TOMBSTONED), "description": "The list the record left"},
    )
    entity_id = fields.Integer(
        required=True, metadata={"description": "The id the record had in that list"}
    )
    deleted_at = UtcDateTime(required=True)
    deleted_by_id = fields.Integer(
        allow_none=True, metadata={"description": "The user who deleted it; null: a command"}
    )


ThreatPage = page_schema(ThreatSchema, "ThreatPage")
CountermeasurePage = page_schema(CountermeasureSchema, "CountermeasurePage")
SystemPage = page_schema(SystemSchema, "SystemPage")
StaffPage = page_schema(StaffSchema, "StaffPage")
ResponsibilityPage = page_schema(ResponsibilitySchema, "ResponsibilityPage")
PositionPage = page_schema(PositionSchema, "PositionPage")
DeletionPage = page_schema(DeletionSchema, "DeletionPage")


# ---- request bodies ----------------------------------------------------------------
#
# These only read JSON into plain values (types, and bounds that keep a request from
# overflowing a column); every business rule is the service's, as for the web forms, and
# its refusals come back as 422 with a message per field. Fields a body leaves out take
# the service's default on create and keep their current value on update.


def LongText(**kwargs) -> fields.String:  # noqa: N802
    return fields.String(validate=[validate.Length(max=20_000), _no_nul], **kwargs)


def Version() -> fields.Integer:  # noqa: N802
    return fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The version you read; 409 if the record changed since then."},
    )


class _Body(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class SystemCreate(_Body):
    name = Text(metadata={"description": "Required, unique"})
    description = LongText()
    team = Text()
    criticality = Choice(Criticality)
    in_production = fields.Boolean()
    retired_on = Day(allow_none=True, metadata={"description": RETIRED_ON})


class SystemUpdate(SystemCreate):
    version = Version()
    name = Text()
    production_changed_on = Day(
        allow_none=True,
        metadata={"description": "When in_production changes: the day it took effect (today)"},
    )
    criticality_changed_on = Day(
        allow_none=True,
        metadata={"description": "When criticality changes: the day it took effect (today)"},
    )


class StaffCreate(_Body):
    name = Text(metadata={"description": "Required"})
    email = Text(allow_none=True)
    team = Text()
    active = fields.Boolean()
    left_on = Day(allow_none=True, metadata={"description": LEFT_ON})
    user_id = Id(allow_none=True, metadata={"description": "The user account of this person"})


class StaffUpdate(StaffCreate):
    version = Version()
    name = Text()
    confirm_impact = fields.Boolean(
        metadata={
            "description": "Save a leaving date even though it leaves production systems "
            "uncovered or with a single person (otherwise 422 names them)."
        }
    )


class ResponsibilityCreate(_Body):
    staff_member_id = Id()
    system_id = Id()
    kind = Choice(ResponsibilityKind)
    since = Day(allow_none=True, metadata={"description": SINCE + " (default: today)"})
    until = Day(allow_none=True, metadata={"description": UNTIL})


class ResponsibilityUpdate(_Body):
    version = Version()
    kind = Choice(ResponsibilityKind)
    since = Day(allow_none=True, metadata={"description": SINCE + " (default: today)"})
    until = Day(allow_none=True, metadata={"description": UNTIL})
    confirm_impact = fields.Boolean(
        metadata={"description": "Save an end date even though it creates a SPOF."}
    )


class PositionCreate(_Body):
    title = Text(metadata={"description": "Required"})
    team = Text()
    system_ids = fields.List(Id(), validate=validate.Length(max=100))
    opened_on = Day(allow_none=True)
    notes = LongText()
    status = Choice(PositionStatus)


class PositionUpdate(_Body):
    version = Version()
    title = Text()
    team = Text()
    system_ids = fields.List(Id(), validate=validate.Length(max=100))
    notes = LongText()


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


class CountermeasureCreate(_Body):
    title = Text(metadata={"description": "Required"})
    description = LongText()
    type = Choice(CountermeasureType)
    threat_ids = fields.List(Id(), validate=validate.Length(max=100))
    owner_id = Id(allow_none=True)
    target_quarter = Text(allow_none=True, metadata={"description": "e.g. FY20-21 Q3"})
    evidence = LongText()
    status = Choice(CountermeasureStatus)
    planned_on = Day(
        allow_none=True,
        metadata={
            "description": "The day it was planned (default today, or the deployment day of "
            "one recorded as deployed); not in the future"
        },
    )
    deployed_on = Day(allow_none=True)


class CountermeasureUpdate(_Body):
    version = Version()
    title = Text()
    description = LongText()
    type = Choice(CountermeasureType)
    threat_ids = fields.List(Id(), validate=validate.Length(max=100))
    owner_id = Id(allow_none=True)
    target_quarter = Text(allow_none=True)
    evidence = LongText()
    deployed_on = Day(
        allow_none=True,
        metadata={"description": "Corrects the deployment date of a deployed countermeasure"},
    )


class CountermeasureStatusCreate(_Body):
    version = Version()
    status = Choice(CountermeasureStatus, required=True)
    changed_on = Day(allow_none=True)


class MethodInputs(fields.Field):
    """A CVSS vector (text) or factors by name (an object of whole numbers)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            _no_nul(value)
            if len(value) > 1000:
                raise ma.ValidationError("Longer than maximum length 1000.")
            return value
        if isinstance(value, dict):
            if len(value) > 20 or any(
                not isinstance(k, str) or len(k) > 40 or type(v) is not int
                for k, v in value.items()
            ):
                raise ma.ValidationError("Give the factors by name, each a whole number.")
            return value
        raise ma.ValidationError("Give a CVSS vector (text) or the factors (an object).")


def Score(axis: str = "likelihood", **kwargs) -> fields.Integer:  # noqa: N802
    # The document states the configured matrix's bounds (app.api.docs); values outside
    # them are refused by the register's rules, with the form's message.
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=-MAX_ID, max=MAX_ID),
        metadata={"description": f"1 to the risk matrix's {axis} size", "x-matrix": axis},
        **kwargs,
    )


class ResidualScore(_Body):
    threat_id = Id(required=True)
    likelihood = Score(required=True)
    impact = Score("impact", required=True)


class DeploymentCreate(_Body):
    version = Version()
    deployed_on = Day(allow_none=True)
    evidence = LongText(allow_none=True)
    residuals = fields.List(
        fields.Nested(ResidualScore),
        validate=validate.Length(max=100),
        metadata={"description": "The treated threats' new residual likelihood and impact"},
    )


class VerificationCreate(_Body):
    version = Version()
    verified_on = Day(allow_none=True)
    verified_by_id = Id(allow_none=True)
    effectiveness = Choice(Effectiveness, allow_none=True)


class ThreatCreate(_Body):
    title = Text(metadata={"description": "Required"})
    description = LongText()
    category_id = Id(allow_none=True)
    source = Choice(ThreatSource)
    feed_id = Id(allow_none=True, metadata={"description": "Only for source threat_intel"})
    owner_id = Id(allow_none=True)
    status = Choice(ThreatStatus)
    treatment = Choice(Treatment, allow_none=True)
    treatment_rationale = LongText()
    acceptance_approver_id = Id(
        allow_none=True, metadata={"description": "Required to accept: a manager or admin"}
    )
    acceptance_expires_on = Day(allow_none=True)
    identified_on = Day(allow_none=True)
    next_review_on = Day(allow_none=True)
    inherent_likelihood = Score()
    inherent_impact = Score("impact")
    residual_likelihood = Score()
    residual_impact = Score("impact")
    scored_on = Day(allow_none=True, metadata={"description": "Date of this assessment"})
    score_note = LongText(metadata={"description": "Why the scores changed"})
    scoring_method = fields.String(
        validate=validate.OneOf([m.value for m in Method]),
        metadata={
            "description": "matrix (default: give the inherent likelihood and impact), or "
            "cvss, owasp, dread: the inherent likelihood and impact are worked out from "
            "scoring_inputs (leave them out, or give the same values); 422 on bad inputs"
        },
    )
    scoring_inputs = MethodInputs(
        allow_none=True,
        metadata={
            **_INPUTS_DOC,
            "description": "cvss: the vector (CVSS:3.1/... or CVSS:4.0/...); owasp: the 16 "
            "factors 0-9 by name (skill_level, motive, ...); dread: the 5 factors 0-10 "
            "(damage, reproducibility, exploitability, affected_users, discoverability)",
        },
    )
    system_ids = fields.List(Id(), validate=validate.Length(max=100))
    tags = fields.List(Text(), validate=validate.Length(max=100))


class ThreatUpdate(ThreatCreate):
    version = Version()
    title = Text()
    status_changed_on = Day(
        allow_none=True,
        metadata={
            "description": "The day a change of status, treatment, acceptance or next review "
            "took effect (default today; not in the future, not before the threat's last "
            "recorded change)"
        },
    )


class DatedAction(_Body):
    on = Day(allow_none=True, metadata={"description": "Effective on (default today)"})


class ThreatReview(_Body):
    reviewed_on = Day(allow_none=True, metadata={"description": "Default today"})
    outcome = Text()
    next_review_on = Day(
        allow_none=True, metadata={"description": "Default: the residual level's interval"}
    )


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


# ---- reports ---------------------------------------------------------------------------


class ReportArgs(ma.Schema):
    objective = Id(
        metadata={"description": "Objective id (default: the fiscal year's main objective)"}
    )
    quarter = Text(
        required=True,
        metadata={"description": "A started quarter, e.g. FY20-21 Q2"},
    )


class PublicationSchema(ma.Schema):
    id = fields.Integer(required=True)
    published_at = fields.AwareDateTime()
    published_by_id = fields.Integer(allow_none=True)
    generated_on = fields.Date()
    reason = fields.String()
    current = fields.Function(
        lambda p: p.superseded_by_id is None,
        metadata={"type": "boolean", "description": "The copy a download answers"},
    )


class ReportSchema(ma.Schema):
    objective = fields.Nested(ThreatRef)
    quarter = fields.String(required=True)
    published = fields.Boolean(
        metadata={"description": "A published copy exists: the PDF is that frozen copy"}
    )
    pdf = fields.String(metadata={"description": "Where to GET the PDF (application/pdf)"})
    publications = fields.List(
        fields.Nested(PublicationSchema), metadata={"description": "Newest first"}
    )
