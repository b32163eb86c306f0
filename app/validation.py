"""One way to refuse bad input, shared by forms, the API and CSV import.

Business rules live in each area's service functions, which raise :class:`InputError`
with a message per field; a view puts the messages beside the form's fields, the API
answers 422 with them as JSON, and an import names the line and column.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar, cast

from flask import flash, redirect
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from app.extensions import db

# The largest id every database column holds (ids are 32-bit INTEGER on PostgreSQL): a larger
# number in a URL or a query string names nothing, and would fail the query if it reached one.
MAX_ID = 2**31 - 1


def id_or_none(text: str | None) -> int | None:
    """A record id from a query string: digits within MAX_ID, else None."""
    value = (text or "").strip()
    if not value.isascii() or not value.isdigit() or int(value) > MAX_ID:
        return None
    return int(value)


# Line breaks and tabs belong in multi-line text; no other control character (Unicode Cc:
# C0, DEL, C1) belongs anywhere: PostgreSQL refuses NUL outright, and the others are invisible
# on a page or in a PDF. A lone surrogate (from JSON) cannot be encoded to be stored either.
_REFUSED_IN_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_REFUSED_IN_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_NAMES = {"\x00": "NUL", "\t": "tab", "\r": "carriage return", "\n": "line feed"}


def control_character_message(text: str, *, multiline: bool = True) -> str | None:
    """Why ``text`` is refused (its first control character or lone surrogate), or None."""
    found = (_REFUSED_IN_MULTILINE if multiline else _REFUSED_IN_ONE_LINE).search(text)
    if found is None:
        return None
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        return "Remove the broken character (a lone UTF-16 surrogate): it cannot be stored."
    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "control character")
    return f"Remove the control character U+{ord(char):04X} ({name}): it cannot be stored or shown."


def check_characters(field: str, text: str | None, *, multiline: bool = True) -> None:
    """Raise InputError for a control character in ``text`` (for raw request values)."""
    message = control_character_message(text or "", multiline=multiline)
    if message:
        raise InputError({field: message})


# Business dates stay well inside the calendar: quarter and trend arithmetic steps a year or
# more past a date, which would overflow at year 1 or 9999.
FIRST_YEAR, LAST_YEAR = 1900, 2999


class InputError(ValueError):
    def __init__(self, errors: dict[str, str] | str):
        if isinstance(errors, str):
            errors = {"_": errors}
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" if k != "_" else v for k, v in errors.items()))


class ConfirmationRequiredError(InputError):
    """Refused until the person confirms: the change has an impact to show them first."""

    def __init__(self, errors: dict[str, str] | str, impact: object):
        self.impact = impact
        super().__init__(errors)


class ConflictError(Exception):
    """The record changed since the caller read it (optimistic locking)."""

    def __init__(self, message: str = "Someone else changed this record since you opened it."):
        self.message = message
        super().__init__(message)


class FieldErrors(dict[str, str]):
    """The refusals gathered while checking a record's values: one message per field."""

    def raise_if_any(self) -> None:
        if self:
            raise InputError(dict(self))


E = TypeVar("E", bound=enum.Enum)
Saved = TypeVar("Saved")

# The parsers of plain values (a form's strings, the API's JSON, a CSV cell): each records a
# refusal in ``errors`` under ``field`` instead of raising, so every field is checked before
# the caller refuses the lot. The messages are each area's own, passed in.


def plain_text(value: Any) -> str:
    """The value as text without surrounding blanks ("" for None)."""
    return "" if value is None else str(value).strip()


def parse_text(
    value: Any,
    field: str,
    errors: dict[str, str],
    *,
    max_length: int,
    missing: str | None = None,
    too_long: str = "Use at most {max_length} characters.",
) -> str:
    """The text stripped; ``missing`` refuses an empty one, ``too_long`` (with
    ``{max_length}`` and ``{length}``) a longer one than ``max_length``."""
    text = plain_text(value)
    if missing is not None and not text:
        errors[field] = missing
    elif len(text) > max_length:
        errors[field] = too_long.format(max_length=max_length, length=len(text))
    return text


def parse_enum(
    cls: type[E],
    value: Any,
    field: str,
    errors: dict[str, str],
    *,
    refusal: str,
    missing: str | None = None,
    default: E | None = None,
    by_label: bool = False,
) -> E | None:
    """A member of ``cls`` from a member, its name or its value in any case (or its label,
    ``by_label``). Empty: ``default``, refused with ``missing`` when given. Anything else is
    refused with ``refusal`` (with ``{text}`` and ``{choices}``: the values, or the labels
    ``by_label``)."""
    if isinstance(value, cls):
        return value
    if value is None or value == "":
        if missing is not None:
            errors[field] = missing
        return default
    text = str(value).strip()
    for member in cls:
        spellings = [member.name, str(member.value)]
        if by_label:
            spellings.append(member.label)  # type: ignore[attr-defined]
        if text.lower() in (spelling.lower() for spelling in spellings):
            return member
    choices = ", ".join(
        member.label.lower() if by_label else str(member.value)  # type: ignore[attr-defined]
        for member in cls
    )
    errors[field] = refusal.format(text=text, choices=choices)
    return None


def apply_errors_to_form(form, error: InputError) -> None:
    """Show service errors beside the matching form fields (or at the top)."""
    # A form may show a service field elsewhere (``error_fields``: service name -> field).
    renamed = getattr(form, "error_fields", None) or {}
    for field_name, message in error.errors.items():
        field = getattr(form, renamed.get(field_name, field_name), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [message]
        else:
            form.form_errors.append(message)


def check_date_range(field: str, value: date | None) -> None:
    """Refuse a business date outside FIRST_YEAR..LAST_YEAR (a typo such as 0202 or 9999)."""
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InputError(
            {
                field: f"{value.isoformat()} is out of range: give a date from {FIRST_YEAR} "
                f"to {LAST_YEAR}."
            }
        )


class Refusals:
    """What a save without a form of its own shows: every message in ``form_errors``."""

    def __init__(self) -> None:
        self.form_errors: list[str] = []


@dataclass
class SaveOutcome:
    saved: bool = False
    status: int = 200
    # What an unconfirmed change would do, for the form to show beside its confirmation box.
    impact: object | None = None
    # Someone else's change came first: the message, for a view that answers with a redirect.
    conflict: str | None = None
    # The refusal, for a view that shows it as a flashed message.
    refusal: InputError | None = None


@contextmanager
def saved_or_shown(
    form: Any, refused_status: int = 200, field_of: Callable[[str], str] | None = None
) -> Iterator[SaveOutcome]:
    """Commit what the block changed, or roll it back and show why on the form.

    Refused input puts each message beside its field (``field_of`` names the form's field
    for a rule's key when they differ) and answers ``refused_status``; a change that needs
    confirming keeps its impact in ``outcome.impact`` and answers 409; a record changed by
    someone else since the form was read (optimistic locking) puts one message at the top
    and answers 409. ``outcome.saved`` tells the view which happened.
    """
    outcome = SaveOutcome()
    try:
        yield outcome
        db.session.commit()
    except ConfirmationRequiredError as error:
        db.session.rollback()
        apply_errors_to_form(form, error)
        outcome.impact = error.impact
        outcome.status = 409
    except InputError as error:
        db.session.rollback()
        outcome.refusal = error
        if field_of is not None:
            error = InputError({field_of(key): message for key, message in error.errors.items()})
        apply_errors_to_form(form, error)
        outcome.status = refused_status
    except (ConflictError, StaleDataError) as error:
        db.session.rollback()
        outcome.conflict = getattr(error, "message", ConflictError().message)
        form.form_errors.append(outcome.conflict)
        outcome.status = 409
    else:
        outcome.saved = True


def save_submitted(
    form: Any,
    save: Callable[[], Saved],
    saved: Callable[[Any], str],
    *,
    valid: bool | None = None,
    refused_status: int = 200,
) -> tuple[SaveOutcome, Saved | None]:
    """A form page's save: when ``form`` comes back valid (or the caller says it is,
    ``valid``), ``save()`` inside ``saved_or_shown`` (committed, or the refusal beside its
    field), then ``saved(result)`` flashed as a success. The outcome (nothing sent: status
    200, not saved) and what ``save`` returned, None unless saved."""
    if not (form.validate_on_submit() if valid is None else valid):
        return SaveOutcome(), None
    with saved_or_shown(form, refused_status) as outcome:
        result = save()
    if not outcome.saved:
        return outcome, None
    flash(saved(result), "success")
    return outcome, result


def saved_then_back(
    form: Any,
    save: Callable[[], Saved],
    said: Callable[[Saved], str],
    to: str | Callable[[Saved], str],
) -> Response | None:
    """A form page's plain save: when the form is valid, ``save()`` inside
    :func:`saved_or_shown`; once saved, ``said(record)`` is flashed and the answer goes to
    ``to`` (a URL, or the saved record's). None when the page is shown again instead
    (invalid, refused, a conflict)."""
    outcome, record = save_submitted(form, save, said)
    if not outcome.saved:
        return None
    # Saved: ``record`` is what ``save`` returned, None included.
    return redirect(to(cast(Saved, record)) if callable(to) else to)


def ignored_filters(args, rules: dict) -> list[str]:
    """A message for each filter value a list page does not understand and so ignores
    (``rules``: name -> the accepted values, or a test of the text), for the page to say so
    instead of silently listing something else."""
    problems = []
    for name, rule in rules.items():
        value = (args.get(name) or "").strip()
        if not value:
            continue
        if not (rule(value) if callable(rule) else value in rule):
            problems.append(f"“{value[:40]}” is not a value of {name}; that filter was ignored.")
    return problems
