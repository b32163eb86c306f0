"""Business rules for objectives, key results and their quarterly statuses.

Every function takes plain values (strings from a form or the API are fine), checks all
of them first and raises :class:`InputError` with a message per field before changing
anything; on success it adds to the session and flushes, and the caller commits.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from sqlalchemy import select

from app import fiscal
from app.domain.quarters import (
    Quarter,
    QuarterError,
    fiscal_year_label,
    parse_fiscal_year,
    parse_quarter,
)
from app.extensions import db
from app.metrics import get_metric, metric_choices
from app.models.okrs import (
    GoalDirection,
    KeyResult,
    KeyResultStatus,
    Objective,
    ObjectiveNarrative,
    Rating,
)
from app.validation import E, FieldErrors, parse_enum, parse_text, plain_text

__all__ = [
    "baseline_quarter_label",
    "clear_status",
    "create_key_result",
    "create_objective",
    "parse_number",
    "set_narrative",
    "update_key_result",
    "update_objective",
    "write_status",
]

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

# A key result's own values, as its form, the API and an update name them (with
# ``baseline_quarter`` and ``position``, which the record holds differently or last).
KEY_RESULT_FIELDS = (
    "code",
    "statement",
    "baseline_text",
    "baseline_value",
    "goal_text",
    "goal_value",
    "goal_unit",
    "goal_direction",
    "metric",
)


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


def _number(raw: Any, field: str, errors: FieldErrors, message: str) -> float | None:
    try:
        return parse_number(raw)
    except ValueError:
        errors[field] = message
        return None


def _enum(enum_cls: type[E], raw: Any, field: str, errors: FieldErrors, what: str) -> E | None:
    refusal = f'Unknown {what} "{{text}}": choose one of {{choices}}.'
    return parse_enum(enum_cls, raw, field, errors, refusal=refusal, by_label=True)


def _value_text(
    values: dict[str, Any],
    field: str,
    maximum: int,
    errors: FieldErrors,
    missing: str | None = None,
) -> str:
    """The text of ``values[field]``, refused when too long (or, with ``missing``, empty)."""
    return parse_text(values.get(field), field, errors, max_length=maximum, missing=missing)


def _fiscal_year(raw: Any, errors: FieldErrors) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        if 1900 <= raw <= 2999:
            return raw
        errors["fiscal_year"] = f"{raw} is not a plausible fiscal year."
        return None
    text = plain_text(raw)
    if not text:
        errors["fiscal_year"] = "Choose the fiscal year, e.g. " + fiscal_year_label(
            fiscal.current_quarter().fiscal_year, fiscal.start_month()
        )
        return None
    try:
        return parse_fiscal_year(text, fiscal.start_month())
    except QuarterError as error:
        errors["fiscal_year"] = str(error)
        return None


# ---------------------------------------------------------------- objectives


def _objective_values(values: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
    title = _value_text(
        values, "title", TITLE_MAX, errors, "Give the objective a title, e.g. Front Line Defenses."
    )
    department = _value_text(values, "department", DEPARTMENT_MAX, errors)
    target = _value_text(values, "target_completion", TARGET_MAX, errors)
    position = values.get("position")
    try:
        position = int(position) if position not in (None, "") else 0
    except (TypeError, ValueError):
        errors["position"] = "Enter a whole number (the objective's place on the page)."
        position = 0
    statement = _value_text(values, "statement", STATEMENT_MAX, errors)
    return {
        "title": title,
        "statement": statement,
        "department": department,
        "fiscal_year": _fiscal_year(values.get("fiscal_year"), errors),
        "target_completion": target,
        "position": position,
    }


def create_objective(**values: Any) -> Objective:
    """title, statement, department, fiscal_year (2020 or "FY20-21"), target_completion."""
    errors = FieldErrors()
    clean = _objective_values(values, errors)
    errors.raise_if_any()
    objective = Objective(**clean)
    db.session.add(objective)
    db.session.flush()
    return objective


def update_objective(objective: Objective, **values: Any) -> Objective:
    errors = FieldErrors()
    clean = _objective_values(values, errors)
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
    for key, value in clean.items():
        setattr(objective, key, value)
    db.session.flush()
    return objective


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
    body = parse_text(text, "text", errors, max_length=NARRATIVE_MAX)
    errors.raise_if_any()
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
    objective: Objective, values: dict[str, Any], errors: FieldErrors, current: KeyResult | None
) -> dict[str, Any]:
    code = _value_text(values, "code", CODE_MAX, errors)
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
    statement = _value_text(
        values,
        "statement",
        STATEMENT_MAX,
        errors,
        "Write the key result, e.g. what is reduced, from what, to what.",
    )
    baseline_text = _value_text(values, "baseline_text", BASELINE_MAX, errors)
    goal_text = _value_text(values, "goal_text", GOAL_MAX, errors)
    unit = _value_text(values, "goal_unit", UNIT_MAX, errors)
    metric = plain_text(values.get("metric")) or None
    if metric is not None and get_metric(metric) is None:
        errors["metric"] = (
            f'There is no register metric called "{metric}". Choose one of: '
            + ", ".join(name for name, _ in metric_choices())
            + "."
        )
    goal_value = _number(
        values.get("goal_value"), "goal_value", errors, "Enter the goal as a number, e.g. 4."
    )
    baseline_value = _number(
        values.get("baseline_value"),
        "baseline_value",
        errors,
        "Enter the baseline as a number, e.g. 0, or leave it empty.",
    )
    direction = _enum(
        GoalDirection, values.get("goal_direction"), "goal_direction", errors, "direction"
    )
    if direction is not None and goal_value is None and "goal_value" not in errors:
        errors["goal_value"] = f"{direction.label} what? Enter the goal as a number."
    if direction is None and goal_value is not None:
        direction = GoalDirection.INCREASE
    if "baseline_quarter" in values:
        baseline_quarter_start = _baseline_quarter(values["baseline_quarter"], objective, errors)
    else:  # a caller that does not name it keeps what is recorded
        baseline_quarter_start = current.baseline_quarter_start if current is not None else None
    position = values.get("position")
    if position in (None, ""):
        position = current.position if current is not None else _next_position(objective)
    else:
        try:
            position = int(position)
        except (TypeError, ValueError):
            errors["position"] = "Enter a whole number (the key result's place in the table)."
            position = 0
    return {
        "code": code,
        "statement": statement,
        "baseline_text": baseline_text,
        "baseline_value": baseline_value,
        "goal_text": goal_text,
        "goal_value": goal_value,
        "goal_unit": unit,
        "goal_direction": direction,
        "metric": metric,
        "baseline_quarter_start": baseline_quarter_start,
        "position": position,
    }


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
    errors = FieldErrors()
    clean = _key_result_values(objective, values, errors, None)
    errors.raise_if_any()
    key_result = KeyResult(**clean)
    objective.key_results.append(key_result)
    db.session.flush()
    return key_result


def update_key_result(key_result: KeyResult, **values: Any) -> KeyResult:
    errors = FieldErrors()
    clean = _key_result_values(key_result.objective, values, errors, key_result)
    errors.raise_if_any()
    for key, value in clean.items():
        setattr(key_result, key, value)
    db.session.flush()
    return key_result


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
    body = parse_text(
        text,
        "text",
        errors,
        max_length=STATUS_MAX,
        missing="Write the status as it should read in the table.",
    )
    if is_numeric(key_result):
        unit = key_result.goal_unit or "the goal's unit"
        name = key_result.code or "this key result"
        message = (
            f'"{plain_text(value)}" is not a number: {name} is measured in {unit}; enter e.g. 4.'
        )
    else:
        message = f'"{plain_text(value)}" is not a number: enter a number or leave the value empty.'
    number = _number(value, "value", errors, message)
    chosen = _enum(Rating, rating, "rating", errors, "rating")
    errors.raise_if_any()
    assert found is not None
    status = next((s for s in key_result.statuses if s.quarter_start == found.first_day), None)
    if status is None:
        status = KeyResultStatus(quarter_start=found.first_day)
        key_result.statuses.append(status)
    status.text = body
    status.value = number
    status.rating = chosen
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
