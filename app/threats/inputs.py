"""A threat's values as every caller gives them (the form, the API, a CSV row), declared
once: their types, choices, lengths and dates. ``read_threat`` turns them into clean
values and a message per refused field; the rules that need other records (references,
the scoring method's rules, the workflow) are the service's (``app.threats.checks``)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app.domain.scoring import RiskMatrix
from app.domain.scoring_methods import MethodError, parse_method
from app.inputs import Date, IdList, Named, NameList, OptionalId, Words, read, whole_number
from app.models.threats import ThreatSource, ThreatStatus, Treatment

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 20_000
RATIONALE_MAX_LENGTH = 5_000
NOTE_MAX_LENGTH = 300
TAG_MAX_LENGTH = 60
MAX_TAGS = 20
SCORE_FIELDS = ("inherent_likelihood", "inherent_impact", "residual_likelihood", "residual_impact")


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


class ScoringMethod(ma.fields.Field):
    """matrix (when empty), cvss, owasp or dread, by value or name."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        try:
            return parse_method(None if value is ma.missing else value)
        except MethodError as error:
            raise ma.ValidationError(error.message) from None


class PassedOn(ma.fields.Field):
    """Read by the rules it is for (a scoring method's inputs: a vector or factors)."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        return None if value is ma.missing else value


class ThreatInput(ma.Schema):
    """A threat's values; the scores are read against the risk matrix given."""

    # In the order a form shows them, which is the order their refusals are listed in.
    title = Words(TITLE_MAX_LENGTH, "The title")
    description = Words(DESCRIPTION_MAX_LENGTH, "The description")
    category_id = OptionalId("category")
    source = Named(ThreatSource, "source")
    feed_id = OptionalId("feed")
    owner_id = OptionalId("owner")
    status = Named(ThreatStatus, "status")
    treatment = Named(Treatment, "treatment")
    treatment_rationale = Words(RATIONALE_MAX_LENGTH, "The rationale")
    identified_on = Date()
    acceptance_approver_id = OptionalId("approver")
    acceptance_expires_on = Date()
    scoring_method = ScoringMethod()
    scoring_inputs = PassedOn()
    inherent_likelihood = ScoreAxis("likelihood", "Inherent likelihood")
    inherent_impact = ScoreAxis("impact", "Inherent impact")
    residual_likelihood = ScoreAxis("likelihood", "Residual likelihood")
    residual_impact = ScoreAxis("impact", "Residual impact")
    scored_on = Date()
    score_note = Words(NOTE_MAX_LENGTH, "The note")
    status_changed_on = Date()
    next_review_on = Date()
    system_ids = IdList("Choose systems from the list.")
    tags = NameList(
        TAG_MAX_LENGTH,
        MAX_TAGS,
        f"Each tag may have at most {TAG_MAX_LENGTH} characters.",
        f"At most {MAX_TAGS} tags per threat.",
    )

    def __init__(self, matrix: RiskMatrix, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.maximum = {"likelihood": matrix.max_likelihood, "impact": matrix.max_impact}


def read_threat(values: dict, matrix: RiskMatrix) -> tuple[dict, dict[str, str]]:
    """A threat's clean values (those that could be read) and a message per refused field."""
    return read(ThreatInput(matrix), values)


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


class ReviewInput(ma.Schema):
    """A review of a threat: its outcome and the next review date."""

    outcome = Words(NOTE_MAX_LENGTH, "The outcome")
    next_review_on = Date()


class CategoryInput(ma.Schema):
    name = Words(120, "The name")
