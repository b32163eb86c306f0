"""The threat register's rules on a threat's values: the records they refer to, the
scoring method's assessment, and the check of a new or changed threat."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app import fiscal
from app.domain.scoring import level_for, next_review_date
from app.domain.scoring_methods import Assessment, Method, MethodError, assess
from app.extensions import db
from app.inputs import read_value
from app.models.systems import System
from app.models.threats import (
    Threat,
    ThreatCategory,
    ThreatFeed,
    ThreatSource,
    ThreatStatus,
    Treatment,
)
from app.models.user import Role, User
from app.threats.inputs import (
    SCORE_FIELDS,
    STORED_AS_READ,
    ScoringMethod,
    ThreatInput,
    read_threat,
    score_label,
)
from app.threats.risk import method_rules, review_intervals, risk_matrix
from app.validation import InputError

APPROVER_ROLES = (Role.MANAGER, Role.ADMIN)
# Statuses that only make sense once a treatment has been decided.
NEEDS_TREATMENT = (ThreatStatus.IN_TREATMENT, ThreatStatus.MONITORING)
_FIELD_ORDER = {name: n for n, name in enumerate(ThreatInput._declared_fields)}


def _field_order(name: str) -> int:
    return _FIELD_ORDER.get(name, len(_FIELD_ORDER))


# ---------------------------------------------------------------- the rules


def _current_values(threat: Threat) -> dict:
    """The threat's values as its input schema names them (what an update starts from)."""
    kept = (*STORED_AS_READ, "status", "treatment", "acceptance_expires_on", "next_review_on")
    return {
        **{name: getattr(threat, name) for name in (*kept, *SCORE_FIELDS)},
        "scoring_method": threat.scoring_method or Method.MATRIX.value,
        "scoring_inputs": threat.scoring_inputs or "",
        "system_ids": [s.id for s in threat.systems],
        "tags": [t.name for t in threat.tags],
    }


class References:
    """What the rules look up: today, the risk matrix, categories, feeds, users, systems.

    One of these reads the database as each rule needs it; the CSV import hands the rules
    one loaded once for the whole file (``app.transfer.entities``), so checking 100,000
    rows runs the same rules without a query per row.
    """

    def __init__(self) -> None:
        self.today = fiscal.today()
        self.matrix = risk_matrix()
        self._intervals = None
        self._method_rules = None

    @property
    def method_rules(self):
        if self._method_rules is None:
            self._method_rules = method_rules(self.matrix)
        return self._method_rules

    @property
    def intervals(self):
        if self._intervals is None:
            self._intervals = review_intervals()
        return self._intervals

    def category(self, category_id: int):
        """The category (``.name``, ``.active``) or None."""
        return db.session.get(ThreatCategory, category_id)

    def feed_exists(self, feed_id: int) -> bool:
        return db.session.get(ThreatFeed, feed_id) is not None

    def user(self, user_id: int):
        """The user (``.role``, ``.is_active_account``) or None."""
        return db.session.get(User, user_id)

    def systems_found(self, system_ids: list[int]) -> int:
        return (
            db.session.scalar(
                select(func.count()).select_from(System).where(System.id.in_(system_ids))
            )
            or 0
        )


def _method_assessment(
    method: Method | None, inputs, refs: References, errors: dict
) -> Assessment | None:
    """What the scoring method makes of its inputs (None for the matrix, or when refused)."""
    if method is None or method is Method.MATRIX:
        return None
    try:
        return assess(method, inputs, refs.method_rules)
    except MethodError as error:
        errors["scoring_inputs"] = error.message
        return None


def assess_inputs(method, inputs, refs: References | None = None) -> Assessment | None:
    """What ``method`` makes of ``inputs`` with today's rules, nothing written (the form's
    "work out the cell"); None for the matrix. Raises InputError."""
    errors: dict[str, str] = {}
    chosen = read_value(ScoringMethod(), method, "scoring_method")
    assessment = _method_assessment(chosen, inputs, refs or References(), errors)
    if errors:
        raise InputError(errors)
    return assessment


def _check(
    values: dict,
    threat: Threat | None,
    refs: References | None = None,
    given: dict | None = None,
) -> dict:
    """Read every value (``app.threats.inputs``) and check the rules on them; returns clean
    values or raises InputError.

    ``given``: the values the caller named (an update merges them into the threat's
    current ones): an inherent likelihood or impact given beside a scoring method must
    agree with it.
    """
    given = values if given is None else given
    refs = refs or References()
    clean, refused = read_threat(values, refs.matrix)
    # A score's refusal depends on the scoring method: ``_check_scores`` decides.
    errors = {k: v for k, v in refused.items() if k not in SCORE_FIELDS}
    _check_description(threat, refs, clean, errors)
    _check_status_and_treatment(threat, refs, clean, errors)
    _check_scores(threat, refs, given, clean, refused, errors)

    identified_on = clean["identified_on"]
    next_review_on = clean["next_review_on"]
    if next_review_on is not None and identified_on is not None and next_review_on < identified_on:
        errors["next_review_on"] = "The next review cannot be before the identified date."

    if clean["system_ids"] and refs.systems_found(clean["system_ids"]) != len(clean["system_ids"]):
        errors["system_ids"] = "Choose systems from the list."

    if errors:
        # Listed in the order of the fields, as a form shows them.
        raise InputError({k: errors[k] for k in sorted(errors, key=_field_order)})
    return clean


def _check_description(
    threat: Threat | None, refs: References, clean: dict, errors: dict[str, str]
) -> None:
    """The title, and the category, source, feed and owner it names."""
    if not clean["title"] and "title" not in errors:
        errors["title"] = "Give the threat a title."

    category_id = clean["category_id"]
    if category_id is not None:
        category = refs.category(category_id)
        if category is None:
            errors["category_id"] = "Choose a category from the list."
        elif not category.active and (threat is None or threat.category_id != category_id):
            errors["category_id"] = f"The category {category.name} is no longer in use."

    clean["source"] = clean["source"] or ThreatSource.INTERNAL
    feed_id = clean["feed_id"]
    if feed_id is not None:
        if clean["source"] is not ThreatSource.THREAT_INTEL:
            errors["feed_id"] = "A feed applies only to threats from a threat-intelligence feed."
        elif not refs.feed_exists(feed_id):
            errors["feed_id"] = "Choose a feed from the list."

    owner_id = clean["owner_id"]
    if owner_id is not None:
        owner = refs.user(owner_id)
        if owner is None or (
            not owner.is_active_account and owner_id != getattr(threat, "owner_id", None)
        ):
            errors["owner_id"] = "Choose an active user as owner."


def _check_status_and_treatment(
    threat: Threat | None, refs: References, clean: dict, errors: dict[str, str]
) -> None:
    """The status, the treatment and its rationale, the identified date, and an acceptance's
    approver and expiry."""
    today = refs.today
    clean["status"] = clean["status"] or ThreatStatus.IDENTIFIED
    treatment = clean["treatment"]
    if clean["status"] in NEEDS_TREATMENT and treatment is None and "treatment" not in errors:
        errors["treatment"] = (
            f"Decide the treatment before setting the status to {clean['status'].label}."
        )

    identified_on = clean["identified_on"]
    if identified_on is None and "identified_on" not in errors:
        identified_on = today if threat is None else threat.identified_on
    if identified_on is not None and identified_on > today:
        errors["identified_on"] = "The identified date cannot be in the future."
    clean["identified_on"] = identified_on

    if treatment is not Treatment.ACCEPT:
        clean["acceptance_approver_id"] = None
        clean["acceptance_expires_on"] = None
        return
    if not clean["treatment_rationale"] and "treatment_rationale" not in errors:
        errors["treatment_rationale"] = "Explain why the risk is accepted."
    approver_id = clean["acceptance_approver_id"]
    if approver_id is None:
        errors.setdefault(
            "acceptance_approver_id", "Name the manager or admin who approves the acceptance."
        )
    else:
        approver = refs.user(approver_id)
        if approver is None or approver.role not in APPROVER_ROLES:
            errors["acceptance_approver_id"] = (
                "The acceptance must be approved by a manager or an admin."
            )
    expires_on = clean["acceptance_expires_on"]
    if expires_on is None:
        errors.setdefault(
            "acceptance_expires_on",
            "Give the date the acceptance expires (it is reviewed then).",
        )
    elif identified_on is not None and expires_on <= identified_on:
        errors["acceptance_expires_on"] = "The acceptance must expire after the identified date."


def _check_scores(
    threat: Threat | None,
    refs: References,
    given: dict,
    clean: dict,
    refused: dict[str, str],
    errors: dict[str, str],
) -> None:
    """The four scores on the matrix, the inherent ones derived from a scoring method's
    inputs when one is given (``refused``: what reading each score refused)."""
    assessment = _method_assessment(clean["scoring_method"], clean["scoring_inputs"], refs, errors)
    method_refused = "scoring_method" in errors or "scoring_inputs" in errors
    clean["assessment"] = assessment
    # The method and canonical inputs this assessment is made with.
    clean["method_key"] = (
        (assessment.method.value, assessment.inputs) if assessment else (Method.MATRIX.value, "")
    )
    derived = {}
    method_name = assessment.method.short if assessment is not None else ""
    if assessment is not None:
        derived = {
            "inherent_likelihood": assessment.likelihood,
            "inherent_impact": assessment.impact,
        }
        if threat is not None and (assessment.method.value, assessment.inputs) == (
            threat.scoring_method,
            threat.scoring_inputs,
        ):
            # The same method and inputs: the cell they were given stands, even if the cut
            # points have changed since (a change of rules applies to new assessments).
            derived = {
                "inherent_likelihood": threat.inherent_likelihood,
                "inherent_impact": threat.inherent_impact,
            }
            clean["assessment"] = assessment = None
            clean["method_key"] = (threat.scoring_method, threat.scoring_inputs)
    for field in SCORE_FIELDS:
        if field in derived:
            # Given beside the method, a score must agree with what the method makes.
            number = None
            if given.get(field) not in (None, ""):
                if field in refused:
                    errors[field] = refused[field]
                number = clean[field]
            if number is not None and number != derived[field]:
                errors[field] = (
                    f"{score_label(field)} comes from the {method_name} inputs: "
                    f"{derived[field]}, not {number}. Leave it out or give {derived[field]}."
                )
            clean[field] = derived[field]
        elif method_refused and field.startswith("inherent_"):
            clean[field] = None  # the method's inputs are refused: no cell to check yet
        elif field in refused:
            errors[field] = refused[field]
    errors.update(_residual_refusal(clean))


def _residual_refusal(clean: dict) -> dict[str, str]:
    if any(clean[f] is None for f in SCORE_FIELDS):
        return {}
    inherent = clean["inherent_likelihood"] * clean["inherent_impact"]
    residual = clean["residual_likelihood"] * clean["residual_impact"]
    if residual > inherent:
        return {
            "residual_impact": (
                f"The residual score ({residual}) cannot exceed the inherent score ({inherent}): "
                "countermeasures lower a risk, they do not raise it."
            )
        }
    return {}


def _matrix_assessment(clean: dict) -> Assessment:
    return Assessment(
        Method.MATRIX, "", clean["inherent_likelihood"], clean["inherent_impact"], None, "", ""
    )


def _reassessed(threat: Threat, clean: dict) -> bool:
    """Whether the method or its inputs differ from the threat's latest assessment."""
    current = (threat.scoring_method or Method.MATRIX.value, threat.scoring_inputs or "")
    return clean["method_key"] != current


def _default_review(base: date, residual_score: int, refs: References | None = None) -> date:
    refs = refs or References()
    level = level_for(residual_score, refs.matrix)
    return next_review_date(base, level, refs.intervals)


def check_new_threat(values: dict, refs: References | None = None) -> dict:
    """Every rule ``create_threat`` applies, without writing: the clean values, with the
    date of the first assessment (``scored_on``) and the next review filled in, or
    InputError. The CSV import calls it for each row."""
    refs = refs or References()
    clean = _check(values, None, refs)
    scored_on = clean["scored_on"] or clean["identified_on"]
    errors: dict[str, str] = {}
    if scored_on < clean["identified_on"]:
        errors["scored_on"] = "The assessment cannot be dated before the threat was identified."
    if scored_on > refs.today:
        errors["scored_on"] = "The assessment cannot be dated in the future."
    if errors:
        raise InputError(errors)
    clean["scored_on"] = scored_on
    if clean["next_review_on"] is None:
        residual = clean["residual_likelihood"] * clean["residual_impact"]
        clean["next_review_on"] = _default_review(clean["identified_on"], residual, refs)
    return clean
