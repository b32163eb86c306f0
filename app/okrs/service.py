"""Business rules for objectives, key results and their quarterly statuses.

Every function takes plain values (strings from a form or the API are fine), checks all
of them first and raises :class:`InputError` with a message per field before changing
anything; on success it adds to the session and flushes, and the caller commits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from app import fiscal
from app.domain.quarters import Quarter, QuarterError, fiscal_year_label, parse_quarter
from app.extensions import db
from app.inputs import loaded, read
from app.models.okrs import (
    GoalDirection,
    KeyResult,
    KeyResultStatus,
    Objective,
    ObjectiveNarrative,
    Rating,
)
from app.okrs.inputs import (
    KEY_RESULT_FIELDS,
    KeyResultInput,
    NarrativeInput,
    ObjectiveInput,
    StatusInput,
)
from app.validation import FieldErrors, plain_text

__all__ = [
    "KEY_RESULT_FIELDS",
    "baseline_quarter_label",
    "clear_status",
    "create_key_result",
    "create_objective",
    "set_narrative",
    "update_key_result",
    "update_objective",
    "write_status",
]

# Made once: each reads a record's values field by field.
_OBJECTIVE = ObjectiveInput()
_KEY_RESULT = KeyResultInput()
_STATUS = StatusInput()
_NARRATIVE = NarrativeInput()


def _written(record, clean: dict[str, Any]):
    """``record`` changed to the checked values ``clean``."""
    for key, value in clean.items():
        setattr(record, key, value)
    db.session.flush()
    return record


# ---------------------------------------------------------------- objectives


def create_objective(**values: Any) -> Objective:
    """title, statement, department, fiscal_year (2020 or "FY20-21"), target_completion."""
    objective = Objective(**loaded(_OBJECTIVE, values))
    db.session.add(objective)
    db.session.flush()
    return objective


def update_objective(objective: Objective, **values: Any) -> Objective:
    clean, refused = read(_OBJECTIVE, values)
    errors = FieldErrors(refused)
    if clean["fiscal_year"] is not None and clean["fiscal_year"] != objective.fiscal_year:
        written = [
            status
            for kr in objective.key_results
            for status in kr.statuses
            if not _in_year(status.quarter_start, clean["fiscal_year"])
        ]
        if written or objective.narratives:
            errors["fiscal_year"] = (
                "This objective already has statuses or narratives for "
                f"{fiscal_year_label(objective.fiscal_year, fiscal.start_month())}; "
                "create a new objective for another fiscal year."
            )
    errors.raise_if_any()
    return _written(objective, clean)


def _in_year(first_day: date, fiscal_year: int) -> bool:
    return fiscal.quarter_starting(first_day).fiscal_year == fiscal_year


def _quarter_of_objective(
    raw: Quarter | str | None, objective: Objective, errors: FieldErrors
) -> Quarter | None:
    year = fiscal_year_label(objective.fiscal_year, fiscal.start_month())
    if isinstance(raw, Quarter):
        quarter = raw
    else:
        text = plain_text(raw)
        if not text:
            errors["quarter"] = f"Choose a quarter of {year}."
            return None
        try:
            quarter = parse_quarter(text, fiscal.start_month())
        except QuarterError as error:
            errors["quarter"] = str(error)
            return None
    if quarter.fiscal_year != objective.fiscal_year:
        errors["quarter"] = (
            f"{quarter.label} is outside this objective's fiscal year {year}: "
            f"choose {year} Q1 to Q4."
        )
        return None
    return quarter


def set_narrative(objective: Objective, quarter: Quarter | str, text: str | None) -> None:
    """The paragraph under the objective for a quarter; empty text removes it."""
    errors = FieldErrors()
    found = _quarter_of_objective(quarter, objective, errors)
    clean, refused = read(_NARRATIVE, {"text": text})
    errors.update(refused)
    errors.raise_if_any()
    body = clean["text"]
    assert found is not None
    existing = next((n for n in objective.narratives if n.quarter_start == found.first_day), None)
    if existing is None and body:
        objective.narratives.append(ObjectiveNarrative(quarter_start=found.first_day, text=body))
    elif existing is not None and body:
        existing.text = body
    elif existing is not None:
        objective.narratives.remove(existing)
        db.session.delete(existing)
    db.session.flush()


# ---------------------------------------------------------------- key results


def _key_result_values(
    objective: Objective, values: dict[str, Any], current: KeyResult | None
) -> dict[str, Any]:
    """The key result's checked values, or InputError naming each refused field."""
    clean, refused = read(_KEY_RESULT, values)
    errors = FieldErrors(refused)
    code = clean["code"]
    if code and "code" not in errors:
        taken = db.session.scalar(
            select(KeyResult.id).where(
                KeyResult.objective_id == objective.id,
                KeyResult.code == code,
                *([KeyResult.id != current.id] if current is not None else []),
            )
        )
        if taken is not None:
            errors["code"] = f"{code} already exists in {objective.title}; use another code."
    direction = clean["goal_direction"]
    if direction is not None and clean["goal_value"] is None and "goal_value" not in errors:
        errors["goal_value"] = f"{direction.label} what? Enter the goal as a number."
    if direction is None and clean["goal_value"] is not None:
        clean["goal_direction"] = GoalDirection.INCREASE
    if "baseline_quarter" in values:
        baseline_quarter_start = _baseline_quarter(values["baseline_quarter"], objective, errors)
    else:  # a caller that does not name it keeps what is recorded
        baseline_quarter_start = current.baseline_quarter_start if current is not None else None
    if clean["position"] is None:
        clean["position"] = current.position if current is not None else _next_position(objective)
    errors.raise_if_any()
    return {**clean, "baseline_quarter_start": baseline_quarter_start}


def baseline_quarter_label(key_result: KeyResult) -> str:
    """The baseline quarter as its label ("FY20-21 Q1"), "" for the fiscal year's start."""
    start = key_result.baseline_quarter_start
    return fiscal.quarter_starting(start).label if start is not None else ""


def _baseline_quarter(raw: Quarter | str | None, objective: Objective, errors: FieldErrors):
    """First day of the baseline quarter (None: the fiscal year's start): a quarter of the
    objective's fiscal year, before its last (a baseline at the year's end leaves no
    quarter for the goal)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    found = FieldErrors()
    quarter = _quarter_of_objective(raw, objective, found)
    if quarter is None:
        errors["baseline_quarter"] = found["quarter"]
        return None
    if quarter.number == 4:
        errors["baseline_quarter"] = (
            f"{quarter.label} is the year's last quarter: no quarter would be left after the "
            "baseline to reach the goal. Choose Q1 to Q3, or the year's start."
        )
        return None
    return quarter.first_day


def _next_position(objective: Objective) -> int:
    return max((kr.position for kr in objective.key_results), default=0) + 1


def create_key_result(objective: Objective, **values: Any) -> KeyResult:
    """code, statement, baseline_text/value, goal_text/value/unit/direction, metric,
    baseline_quarter (a quarter label of the objective's fiscal year, or empty)."""
    key_result = KeyResult(**_key_result_values(objective, values, None))
    objective.key_results.append(key_result)
    db.session.flush()
    return key_result


def update_key_result(key_result: KeyResult, **values: Any) -> KeyResult:
    return _written(key_result, _key_result_values(key_result.objective, values, key_result))


def is_numeric(key_result: KeyResult) -> bool:
    return key_result.goal_value is not None or key_result.metric is not None


def write_status(
    key_result: KeyResult,
    *,
    quarter: Quarter | str,
    text: str | None,
    value: Any = None,
    rating: Rating | str | None = None,
    author_id: int | None = None,
    written_on: date | None = None,
) -> KeyResultStatus:
    """Write (or rewrite) a quarter's status: the deck's cell, a value and a rating."""
    errors = FieldErrors()
    found = _quarter_of_objective(quarter, key_result.objective, errors)
    if found is not None and found.first_day > fiscal.today():
        errors["quarter"] = (
            f"{found.label} has not started yet; its status can be written once it starts."
        )
    clean, refused = read(_STATUS, {"text": text, "value": value, "rating": rating})
    errors.update(refused)
    if is_numeric(key_result):
        unit = key_result.goal_unit or "the goal's unit"
        name = key_result.code or "this key result"
        message = (
            f'"{plain_text(value)}" is not a number: {name} is measured in {unit}; enter e.g. 4.'
        )
    else:
        message = f'"{plain_text(value)}" is not a number: enter a number or leave the value empty.'
    if "value" in errors:
        errors["value"] = message
    errors.raise_if_any()
    assert found is not None
    status = next((s for s in key_result.statuses if s.quarter_start == found.first_day), None)
    if status is None:
        status = KeyResultStatus(quarter_start=found.first_day)
        key_result.statuses.append(status)
    status.text = clean["text"]
    status.value = clean["value"]
    status.rating = clean["rating"]
    status.author_id = author_id
    status.written_on = written_on or fiscal.today()
    db.session.flush()
    return status


def clear_status(key_result: KeyResult, quarter: Quarter | str) -> bool:
    """Remove a quarter's status (the table shows "-" again); False if there was none."""
    errors = FieldErrors()
    found = _quarter_of_objective(quarter, key_result.objective, errors)
    errors.raise_if_any()
    assert found is not None
    status = next((s for s in key_result.statuses if s.quarter_start == found.first_day), None)
    if status is None:
        return False
    key_result.statuses.remove(status)
    db.session.delete(status)
    db.session.flush()
    return True
