"""An objective's, a key result's and a quarterly status's values as every caller gives
them (the form, the API), declared once: their types, lengths and choices, with the
messages this area has always given. ``read`` (``app.inputs``) turns them into clean
values and a message per refused field; the rules that need other records or the
objective (a code used once in it, quarters of its fiscal year, a number for a numeric
key result) are the service's."""

from __future__ import annotations

import enum
import math
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from app import fiscal
from app.domain.quarters import QuarterError, fiscal_year_label, parse_fiscal_year
from app.inputs import Checked, Choice, FiscalYearLabel, Text, Written
from app.metrics import get_metric, metric_choices
from app.models.okrs import GoalDirection, Rating
from app.validation import parse_enum, plain_text

TITLE_MAX = 200
CODE_MAX = 16
UNIT_MAX = 40
TARGET_MAX = 40
DEPARTMENT_MAX = 120
# Free text that the tables and the quarterly PDF show: long enough for a paragraph, short
# enough that a cell still fits on a page.
STATEMENT_MAX = 1_000
BASELINE_MAX = 500
GOAL_MAX = 500
NARRATIVE_MAX = 4_000
STATUS_MAX = 500
# A place on a page or in a table, as the API accepts it.
PLACE_MAX = 10_000


def parse_number(raw: Any) -> float | None:
    """None for an empty value; ValueError for something that is not a finite number."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError("not a number")
    if isinstance(raw, int | float):
        number = float(raw)
    else:
        text = str(raw).strip().replace("\u2212", "-")
        if not text:
            return None
        if "_" in text:
            raise ValueError("not a number")
        number = float(text)
    if not math.isfinite(number):
        raise ValueError("not a number")
    return number


class Number(Checked):
    """A finite number (text with a minus sign of either kind, or a JSON number); empty
    reads as None."""

    def __init__(self, message: str, **kwargs):
        self.message = message
        super().__init__(**kwargs)

    def check(self, value, errors):
        try:
            return parse_number(value)
        except ValueError:
            errors["number"] = self.message
            return None

    def json_field(self) -> fields.Field:
        return fields.Float(allow_none=True, allow_nan=False, metadata=self.metadata)


class Named(Checked):
    """A member of ``enum_cls`` by its name, value or label, case ignored; empty reads as
    None."""

    def __init__(self, enum_cls: type[enum.Enum], what: str, **kwargs):
        self.enum_cls = enum_cls
        self.refusal = f'Unknown {what} "{{text}}": choose one of {{choices}}.'
        super().__init__(**kwargs)

    def check(self, value, errors):
        refusal = self.refusal
        return parse_enum(self.enum_cls, value, "choice", errors, refusal=refusal, by_label=True)

    def json_field(self) -> fields.Field:
        return Choice(self.enum_cls, allow_none=True, metadata=self.metadata)


class Place(Checked):
    """A whole number giving an order on a page; empty reads as ``default``."""

    def __init__(self, message: str, default: int | None, **kwargs):
        self.message, self.default = message, default
        super().__init__(**kwargs)

    def check(self, value, errors):
        if value in (None, ""):
            return self.default
        try:
            return int(value)
        except (TypeError, ValueError):
            errors["place"] = self.message
            return 0

    def json_field(self) -> fields.Field:
        return fields.Integer(validate=validate.Range(min=0, max=PLACE_MAX), metadata=self.metadata)


class FiscalYear(Checked):
    """A fiscal year: its label (FY20-21) or the year it starts in."""

    def check(self, value, errors):
        if isinstance(value, int) and not isinstance(value, bool):
            if 1900 <= value <= 2999:
                return value
            errors["year"] = f"{value} is not a plausible fiscal year."
            return None
        text = plain_text(value)
        if not text:
            current = fiscal.current_quarter().fiscal_year
            errors["year"] = "Choose the fiscal year, e.g. " + fiscal_year_label(
                current, fiscal.start_month()
            )
            return None
        try:
            return parse_fiscal_year(text, fiscal.start_month())
        except QuarterError as error:
            errors["year"] = str(error)
            return None

    def json_field(self) -> fields.Field:
        return FiscalYearLabel(metadata=self.metadata)


class Metric(Checked):
    """The name of a figure the register computes (``app.metrics``); empty reads as None."""

    def check(self, value, errors):
        name = plain_text(value) or None
        if name is not None and get_metric(name) is None:
            errors["metric"] = (
                f'There is no register metric called "{name}". Choose one of: '
                + ", ".join(choice for choice, _ in metric_choices())
                + "."
            )
        return name

    def json_field(self) -> fields.Field:
        return Text(allow_none=True, metadata=self.metadata)


class ObjectiveInput(ma.Schema):
    """An objective's values."""

    title = Written(
        TITLE_MAX,
        "Give the objective a title, e.g. Front Line Defenses.",
        metadata={"description": "Required, e.g. Front Line Defenses"},
    )
    statement = Written(STATEMENT_MAX)
    department = Written(DEPARTMENT_MAX)
    fiscal_year = FiscalYear(metadata={"description": "Required, e.g. FY20-21"})
    target_completion = Written(TARGET_MAX)
    position = Place(
        "Enter a whole number (the objective's place on the page).",
        0,
        metadata={"description": "Place on the page, 0 to 10,000"},
    )


class KeyResultInput(ma.Schema):
    """A key result's own values (its baseline quarter is read against its objective's
    fiscal year, by the service); no place given keeps its place, or puts a new one last."""

    code = Written(CODE_MAX, metadata={"description": "e.g. KR3, unique within the objective"})
    statement = Written(
        STATEMENT_MAX,
        "Write the key result, e.g. what is reduced, from what, to what.",
        metadata={"description": "Required"},
    )
    baseline_text = Written(BASELINE_MAX)
    baseline_value = Number("Enter the baseline as a number, e.g. 0, or leave it empty.")
    goal_text = Written(GOAL_MAX)
    goal_value = Number("Enter the goal as a number, e.g. 4.")
    goal_unit = Written(UNIT_MAX)
    goal_direction = Named(GoalDirection, "direction")
    metric = Metric(
        metadata={"description": "A metric the register computes, the quarterly value's source"}
    )
    position = Place("Enter a whole number (the key result's place in the table).", None)


class StatusInput(ma.Schema):
    """A quarter's status: the table's cell, a value and a rating (a refused value's
    message names the key result's unit: the service's)."""

    text = Written(
        STATUS_MAX,
        "Write the status as it should read in the table.",
        metadata={"description": "Required: the cell as the table shows it"},
    )
    value = Number("Enter a number.")  # said by the service, naming the key result's unit
    rating = Named(Rating, "rating")


class NarrativeInput(ma.Schema):
    """The paragraph under an objective for a quarter; empty removes it."""

    text = Written(NARRATIVE_MAX)


# An objective's values, as its form and an update name them.
OBJECTIVE_FIELDS = tuple(ObjectiveInput._declared_fields)
# A key result's own values, as its form, the API and an update name them (with
# ``baseline_quarter`` and ``position``, which the record holds differently or last).
KEY_RESULT_FIELDS = tuple(name for name in KeyResultInput._declared_fields if name != "position")
