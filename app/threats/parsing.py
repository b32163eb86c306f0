"""A threat's field limits and the parsers of its plain values (text, dates, choices,
scores, tags, systems): each records a refusal in ``errors`` instead of raising."""

from __future__ import annotations

import enum
from datetime import date, datetime

from app import fiscal
from app.models.threats import ThreatStatus
from app.models.user import Role
from app.validation import InputError, check_date_range

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 20_000
RATIONALE_MAX_LENGTH = 5_000
NOTE_MAX_LENGTH = 300
TAG_MAX_LENGTH = 60
MAX_TAGS = 20
SCORE_FIELDS = ("inherent_likelihood", "inherent_impact", "residual_likelihood", "residual_impact")
APPROVER_ROLES = (Role.MANAGER, Role.ADMIN)
# Statuses that only make sense once a treatment has been decided.
NEEDS_TREATMENT = (ThreatStatus.IN_TREATMENT, ThreatStatus.MONITORING)


# ---------------------------------------------------------------- parsing plain values


def _enum(cls: type[enum.Enum], value, field: str, errors: dict, label: str):
    if value is None or value == "":
        return None
    if isinstance(value, cls):
        return value
    text = str(value).strip()
    for member in cls:
        if text.lower() in (member.name.lower(), str(member.value).lower()):
            return member
    choices = ", ".join(str(m.value) for m in cls)
    errors[field] = f"Unknown {label} {text[:40]!r}; choose one of {choices}."
    return None


def _date(value, field: str, errors: dict) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        try:
            check_date_range(field, value)
        except InputError as error:
            errors.update(error.errors)
            return None
        return value
    try:
        return fiscal.parse_date_or_none(str(value)[:40])
    except ValueError as error:
        errors[field] = str(error)
        return None


def _optional_int(value, field: str, errors: dict, label: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[field] = f"Choose a valid {label}."
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.isdigit() and len(text) < 10:
        return int(text)
    errors[field] = f"Choose a valid {label}."
    return None


def _score_axis(value, field: str, maximum: int, errors: dict, label: str) -> int | None:
    message = f"{label} must be a whole number from 1 to {maximum}."
    if value is None or value == "" or isinstance(value, bool):
        errors[field] = message
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not (text.isdigit() and len(text) < 4):
            errors[field] = message
            return None
        number = int(text)
    if not 1 <= number <= maximum:
        errors[field] = message
        return None
    return number


def _text(value, field: str, maximum: int, errors: dict, label: str) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > maximum:
        errors[field] = f"{label} is too long: {len(text):,} characters, at most {maximum:,}."
    return text


def _tags(value, errors: dict) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        name = " ".join(str(item).split()).lower()
        if not name:
            continue
        if len(name) > TAG_MAX_LENGTH:
            errors["tags"] = f"Each tag may have at most {TAG_MAX_LENGTH} characters."
            return []
        if name not in names:
            names.append(name)
    if len(names) > MAX_TAGS:
        errors["tags"] = f"At most {MAX_TAGS} tags per threat."
        return []
    return names


def _system_ids(value, errors: dict) -> list[int]:
    if value is None or value == "":
        return []
    items = [value] if isinstance(value, int | str) else list(value)
    ids: list[int] = []
    for item in items:
        number = _optional_int(item, "system_ids", errors, "system")
        if number is None:
            errors["system_ids"] = "Choose systems from the list."
            return []
        if number not in ids:
            ids.append(number)
    return ids
