"""A threat's values as every caller gives them (the form, the API, a CSV row), declared
once: their types, choices, lengths and dates. ``read_threat`` turns them into clean
values and a message per refused field; the rules that need other records (references,
the scoring method's rules, the workflow) are the service's (``app.threats.checks``)."""

from __future__ import annotations

import enum
import functools
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from app.domain.scoring import RiskMatrix
from app.domain.scoring_methods import Method, MethodError, parse_method
from app.inputs import (
    MAX_ID,
    Date,
    IdList,
    Named,
    NameList,
    OptionalId,
    Words,
    _no_nul,
    read,
    whole_number,
)
from app.models.threats import ThreatSource, ThreatStatus, Treatment

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 20_000
RATIONALE_MAX_LENGTH = 5_000
NOTE_MAX_LENGTH = 300
TAG_MAX_LENGTH = 60
MAX_TAGS = 20
SCORE_FIELDS = ("inherent_likelihood", "inherent_impact", "residual_likelihood", "residual_impact")


def Score(axis: str = "likelihood", **kwargs) -> fields.Integer:  # noqa: N802
    """A score in JSON. The document states the configured matrix's bounds
    (app.api.docs); values outside them are refused by ``ScoreAxis``, with its message."""
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=-MAX_ID, max=MAX_ID),
        metadata={"description": f"1 to the risk matrix's {axis} size", "x-matrix": axis},
        **kwargs,
    )


class ScoreAxis(ma.fields.Field):
    """A likelihood or impact: a whole number from 1 to the risk matrix's size."""

    def __init__(self, axis: str, label: str, **kwargs):
        self.axis, self.label = axis, label
        super().__init__(**kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        maximum = getattr(self.parent, "maximum", {}).get(self.axis, 0)
        number = None if value in (None, "", ma.missing) else whole_number(value, 4)
        if number is None or not 1 <= number <= maximum:
            raise ma.ValidationError(f"{self.label} must be a whole number from 1 to {maximum}.")
        return number

    def json_field(self) -> fields.Field:
        return Score(self.axis)


class ScoringMethod(ma.fields.Field):
    """matrix (when empty), cvss, owasp or dread, by value or name."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        try:
            return parse_method(None if value is ma.missing else value)
        except MethodError as error:
            raise ma.ValidationError(error.message) from None

    def json_field(self) -> fields.Field:
        return fields.String(
            validate=validate.OneOf([m.value for m in Method]), metadata=self.metadata
        )


INPUTS_DOC = {
    "oneOf": [
        {"type": "string"},
        {"type": "object", "additionalProperties": {"type": "integer"}},
        {"type": "null"},
    ],
    "description": "The scoring method's inputs: the CVSS vector, or the OWASP or DREAD "
    "factors by name; null for likelihood × impact",
}


class MethodInputs(fields.Field):
    """A CVSS vector (text) or factors by name (an object of whole numbers), in JSON."""

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


class ScoringInputs(ma.fields.Field):
    """A scoring method's inputs, read by its rules (``app.domain.scoring_methods``)."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        return None if value is ma.missing else value

    def json_field(self) -> fields.Field:
        return MethodInputs(allow_none=True, metadata={**INPUTS_DOC, **self.metadata})


class ThreatInput(ma.Schema):
    """A threat's values; the scores are read against the risk matrix's size."""

    # In the order a form shows them, which is the order their refusals are listed in.
    title = Words(TITLE_MAX_LENGTH, "The title", metadata={"description": "Required"})
    description = Words(DESCRIPTION_MAX_LENGTH, "The description")
    category_id = OptionalId("category")
    source = Named(ThreatSource, "source")
    feed_id = OptionalId("feed", metadata={"description": "Only for source threat_intel"})
    owner_id = OptionalId("owner")
    status = Named(ThreatStatus, "status")
    treatment = Named(Treatment, "treatment", allow_none=True)
    treatment_rationale = Words(RATIONALE_MAX_LENGTH, "The rationale")
    identified_on = Date()
    acceptance_approver_id = OptionalId(
        "approver", metadata={"description": "Required to accept: a manager or admin"}
    )
    acceptance_expires_on = Date()
    scoring_method = ScoringMethod(
        metadata={
            "description": "matrix (default: give the inherent likelihood and impact), or "
            "cvss, owasp, dread: the inherent likelihood and impact are worked out from "
            "scoring_inputs (leave them out, or give the same values); 422 on bad inputs"
        }
    )
    scoring_inputs = ScoringInputs(
        metadata={
            "description": "cvss: the vector (CVSS:3.1/... or CVSS:4.0/...); owasp: the 16 "
            "factors 0-9 by name (skill_level, motive, ...); dread: the 5 factors 0-10 "
            "(damage, reproducibility, exploitability, affected_users, discoverability)",
        }
    )
    inherent_likelihood = ScoreAxis("likelihood", "Inherent likelihood")
    inherent_impact = ScoreAxis("impact", "Inherent impact")
    residual_likelihood = ScoreAxis("likelihood", "Residual likelihood")
    residual_impact = ScoreAxis("impact", "Residual impact")
    scored_on = Date(metadata={"description": "Date of this assessment"})
    score_note = Words(
        NOTE_MAX_LENGTH, "The note", metadata={"description": "Why the scores changed"}
    )
    status_changed_on = Date(
        metadata={
            "description": "The day a change of status, treatment, acceptance or next review "
            "took effect (default today; not in the future, not before the threat's last "
            "recorded change)"
        }
    )
    next_review_on = Date()
    system_ids = IdList("Choose systems from the list.")
    tags = NameList(
        TAG_MAX_LENGTH,
        MAX_TAGS,
        f"Each tag may have at most {TAG_MAX_LENGTH} characters.",
        f"At most {MAX_TAGS} tags per threat.",
    )

    def __init__(self, max_likelihood: int, max_impact: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.maximum = {"likelihood": max_likelihood, "impact": max_impact}


# What the service works out from a threat's values, or records as its dated history. Every
# other field of ``ThreatInput`` is stored on the threat as read: the service writes it, the
# form, the API and the threats file show it (a new field of the schema is one of these).
WORKED_OUT = (
    *SCORE_FIELDS,
    "scoring_method",
    "scoring_inputs",
    "scored_on",
    "score_note",
    "status",
    "treatment",
    "acceptance_expires_on",
    "status_changed_on",
    "next_review_on",
    "system_ids",
    "tags",
)
STORED_AS_READ = tuple(name for name in ThreatInput._declared_fields if name not in WORKED_OUT)


def input_field(name: str) -> ma.fields.Field:
    """The declaration of one of a threat's fields."""
    return ThreatInput._declared_fields[name]


def title_of(name: str) -> str:
    """What a field is called on a form or in a file's header ("Detection source")."""
    return input_field(name).metadata.get("title") or name.replace("_", " ").capitalize()


def read_threat(values: dict, matrix: RiskMatrix) -> tuple[dict, dict[str, str]]:
    """A threat's clean values (those that could be read) and a message per refused field."""
    return read(_reader(matrix.max_likelihood, matrix.max_impact), values)


@functools.lru_cache(maxsize=8)
def _reader(max_likelihood: int, max_impact: int) -> ThreatInput:
    # Made once per matrix size: building a schema costs more than reading a row with it,
    # and a file of 100,000 threats reads every row.
    return ThreatInput(max_likelihood, max_impact)


def score_label(field: str) -> str:
    """What a score is called in a refusal ("Inherent likelihood")."""
    declared = ThreatInput._declared_fields[field]
    assert isinstance(declared, ScoreAxis)
    return declared.label


def max_length(field: str) -> int:
    """The most characters a threat's text field holds (for a form or a file to say so)."""
    declared = ThreatInput._declared_fields[field]
    assert isinstance(declared, Words)
    return declared.maximum


def choices_of(field: str) -> type[enum.Enum]:
    """The enum a threat's choice field reads (for a file's column to read it alike)."""
    declared = ThreatInput._declared_fields[field]
    assert isinstance(declared, Named)
    return declared.enum_cls


class ReviewInput(ma.Schema):
    """A review of a threat: its outcome and the next review date."""

    outcome = Words(NOTE_MAX_LENGTH, "The outcome")
    next_review_on = Date()


class CategoryInput(ma.Schema):
    name = Words(120, "The name")
