"""A countermeasure's values as every caller gives them (the form, the API, a CSV row),
declared once: their types, choices and lengths, with the messages this area has always
given. ``read_countermeasure`` turns them into clean values and a message per refused
field; the rules that need other records or the day (the owner and threats exist, the
dates follow one another and are not in the future) are the service's."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Required, TypedDict

import marshmallow as ma
from marshmallow import fields, validate

from app import fiscal
from app.countermeasures.checks import TEXT_MAX, enum_field, text_field, threat_numbers
from app.domain.quarters import Quarter, QuarterError
from app.inputs import Body, Checked, Choice, Date, Id, Text, _Plain, read, text_json
from app.models.countermeasures import CountermeasureStatus, CountermeasureType, Effectiveness
from app.threats.inputs import Score

TITLE_MAX = 200


class Words(Checked):
    """Text, stripped, at most ``maximum`` characters; None reads as "" (as None when
    ``kept``: the stored text stays as it is)."""

    empty = ""

    def __init__(self, maximum: int, required: bool = False, kept: bool = False, **kwargs):
        self.maximum, self.needed, self.kept = maximum, required, kept
        super().__init__(**kwargs)

    def check(self, value, errors):
        if value is None and self.kept:
            return None
        return text_field(value, "text", errors, required=self.needed, max_length=self.maximum)

    def json_field(self) -> fields.Field:
        field = text_json(self.maximum, self.metadata)
        field.allow_none = self.kept
        return field


class Named(Checked):
    """A member of ``enum_cls`` by its name or value, case ignored; empty is refused
    unless not ``required`` (then None)."""

    def __init__(self, enum_cls: type[enum.Enum], required: bool = True, **kwargs):
        self.enum_cls, self.needed = enum_cls, required
        super().__init__(**kwargs)

    def check(self, value, errors):
        return enum_field(self.enum_cls, value, "choice", errors, self.needed)

    def json_field(self) -> fields.Field:
        return Choice(self.enum_cls, allow_none=not self.needed, metadata=self.metadata)


class UserId(_Plain):
    """A user's id (whether the user exists is the service's to say); empty reads as None."""

    def _read(self, value):
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ma.ValidationError("Unknown user.") from None

    def json_field(self) -> fields.Field:
        return Id(allow_none=True, metadata=self.metadata)


class ThreatIds(Checked):
    """Threat numbers, each once, in the order given."""

    empty: list[int] = []

    def check(self, value, errors):
        return threat_numbers(value, errors)

    def json_field(self) -> fields.Field:
        return fields.List(Id(), validate=validate.Length(max=100), metadata=self.metadata)


class TargetQuarter(_Plain):
    """A fiscal quarter (a Quarter, or its label); empty reads as None."""

    def _read(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, Quarter):
            return value
        try:
            return fiscal.quarter_or_none(str(value))
        except QuarterError as error:
            raise ma.ValidationError(str(error)) from None

    def json_field(self) -> fields.Field:
        return Text(allow_none=True, metadata=self.metadata)


def Dated(**kwargs) -> Date:  # noqa: N802 - a field factory, used like a class
    """A date (or ISO text); its range is checked with "not in the future" by the service,
    which knows the day."""
    return Date(ranged=False, **kwargs)


class CountermeasureInput(ma.Schema):
    """A countermeasure's values: those a person plans it with, then the steps a record of
    one as it stands (the CSV import) also brings."""

    # In the order the rules have always listed their refusals.
    title = Words(TITLE_MAX, required=True, metadata={"description": "Required"})
    description = Words(TEXT_MAX)
    evidence = Words(TEXT_MAX)
    type = Named(CountermeasureType)
    owner_id = UserId()
    status = Named(CountermeasureStatus)
    target_quarter = TargetQuarter(metadata={"description": "e.g. FY20-21 Q3"})
    threat_ids = ThreatIds()
    planned_on = Dated(
        metadata={
            "description": "The day it was planned (default today, or the deployment day of "
            "one recorded as deployed); not in the future"
        }
    )
    deployed_on = Dated()
    retired_on = Dated()
    effectiveness = Named(Effectiveness, required=False)
    verified_on = Dated()


# What an edit changes (the status and the later steps move through their own actions).
EDITED = ("title", "description", "evidence", "type", "owner_id", "target_quarter", "threat_ids")
# What a new one is planned with, and what a record of one as it stands adds.
PLANNED = (*EDITED, "status", "planned_on", "deployed_on")
RECORDED = (*PLANNED, "retired_on", "effectiveness", "verified_on")


class EditedValues(TypedDict, total=False):
    """The values an edit takes as keyword arguments (``EDITED``); one left out reads as
    empty (a type as ``DEFAULTS``)."""

    title: Required[str]
    description: str
    evidence: str
    type: CountermeasureType | str
    owner_id: int | str | None
    target_quarter: Quarter | str | None
    threat_ids: Iterable[int | str]


class PlannedValues(EditedValues, total=False):
    """What a new one is planned with (``PLANNED``); its status as ``DEFAULTS`` if left out."""

    status: CountermeasureStatus | str
    planned_on: date | None
    deployed_on: date | None


# Given no value at all, a countermeasure is planned as a preventive one.
DEFAULTS = {"type": CountermeasureType.PREVENTIVE, "status": CountermeasureStatus.PLANNED}


@functools.lru_cache(maxsize=4)
def _reader(names: tuple[str, ...]) -> CountermeasureInput:
    # Made once: a file of 100,000 countermeasures reads every row with it.
    return CountermeasureInput(only=names)


def read_countermeasure(
    values: dict[str, Any], names: tuple[str, ...] = RECORDED
) -> tuple[dict, dict[str, str]]:
    """The fields ``names`` of a countermeasure read from ``values`` (an absent type or
    status as ``DEFAULTS``): the clean values and a message per refused field."""
    return read(_reader(names), {**DEFAULTS, **values})


# ---- the steps it goes through: a change of status, deployment, verification ----------


class ResidualScore(Body):
    threat_id = Id(required=True)
    likelihood = Score(required=True)
    impact = Score("impact", required=True)


class Residuals(_Plain):
    """The treated threats' new residual (likelihood, impact) by threat id, from a mapping
    (the deploy form) or a list of ``ResidualScore`` (the API); whether a threat is treated
    and its pair fits the matrix is the service's to say."""

    empty: dict = {}

    def _read(self, value):
        if value is None:
            return {}
        if isinstance(value, Mapping):
            return dict(value)
        return {row["threat_id"]: (row["likelihood"], row["impact"]) for row in value}

    def json_field(self) -> fields.Field:
        return fields.List(
            fields.Nested(ResidualScore), validate=validate.Length(max=100), metadata=self.metadata
        )


class StatusChangeInput(ma.Schema):
    """A move to a later status (in progress, or retired) on a day."""

    status = Named(CountermeasureStatus)
    changed_on = Dated()


class DeploymentInput(ma.Schema):
    """The deployment: its day, the evidence (none given: kept), the new residual scores."""

    deployed_on = Dated()
    evidence = Words(TEXT_MAX, kept=True)
    residuals = Residuals(
        metadata={"description": "The treated threats' new residual likelihood and impact"}
    )


class VerificationInput(ma.Schema):
    """The check of a deployed one: when, by whom, how effective."""

    verified_on = Dated()
    verified_by_id = UserId()
    effectiveness = Named(Effectiveness)


STATUS_CHANGE = StatusChangeInput()
DEPLOYMENT = DeploymentInput()
VERIFICATION = VerificationInput()


def form_values(form: Any, schema: ma.Schema) -> dict[str, Any]:
    """The values of ``schema``'s fields as the form of the same names holds them."""
    return {name: form[name].data for name in schema.fields if name in form}


def max_length(field: str) -> int:
    """The most characters a countermeasure's text field holds (for a form or a file)."""
    declared = CountermeasureInput._declared_fields[field]
    assert isinstance(declared, Words)
    return declared.maximum
