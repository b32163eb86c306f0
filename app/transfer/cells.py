"""How one kind of value is written into a cell and read back (ValueError: the user's message)."""

from __future__ import annotations

import enum
import functools
from datetime import date
from typing import Protocol, cast

from app import fiscal
from app.validation import control_character_message

LIST_SEPARATOR = ";"
TRUE_WORDS = {"yes", "y", "true", "1"}
FALSE_WORDS = {"no", "n", "false", "0"}


class Labelled(Protocol):
    """A stored enum member with the words the users know it by."""

    @property
    def label(self) -> str: ...


def render_text(value) -> str:
    return "" if value is None else str(value)


def text(max_length: int, strip: bool = True):
    def parse(raw: str, lookups=None) -> str:
        value = raw.strip() if strip else raw
        if len(value) > max_length:
            raise ValueError(f"At most {max_length} characters ({len(value)} given).")
        refused = control_character_message(value)
        if refused:
            raise ValueError(refused)
        return value

    return parse


def optional_text(max_length: int):
    parse_text = text(max_length)

    def parse(raw: str, lookups=None) -> str | None:
        value = parse_text(raw)
        return value or None

    return parse


def render_enum(value: Labelled | None) -> str:
    return "" if value is None else value.label


def enum_of(enum_cls: type[enum.Enum], default: enum.Enum | None = None):
    names = {}
    for member in enum_cls:
        for word in (cast(Labelled, member).label, member.value, member.name):
            names[word.casefold()] = member

    def parse(raw: str, lookups=None):
        word = raw.strip().casefold()
        if not word:
            return default
        if word not in names:
            choices = ", ".join(cast(Labelled, m).label for m in enum_cls)
            raise ValueError(f"“{raw.strip()}” is not one of: {choices}.")
        return names[word]

    return parse


def render_bool(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def boolean(default: bool):
    def parse(raw: str, lookups=None) -> bool:
        word = raw.strip().casefold()
        if not word:
            return default
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(f"“{raw.strip()}” is not yes or no.")

    return parse


def render_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def day(raw: str, lookups=None) -> date | None:
    text_value = raw.strip()
    if not text_value:
        return None
    try:
        value = date.fromisoformat(text_value)
    except ValueError:
        raise ValueError(
            f"“{text_value}” is not a date; use YYYY-MM-DD, e.g. 2020-12-31."
        ) from None
    if not 1900 <= value.year <= 2999:
        raise ValueError(f"{text_value} is out of range (years 1900 to 2999).")
    return value


def whole_number(low: int, high: int):
    def parse(raw: str, lookups=None) -> int:
        text_value = raw.strip()
        try:
            value = int(text_value)
        except ValueError:
            raise ValueError(
                f"“{text_value}” is not a whole number from {low} to {high}."
            ) from None
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range: use {low} to {high}.")
        return value

    return parse


def render_list(names) -> str:
    return f"{LIST_SEPARATOR} ".join(names)


def names_list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(LIST_SEPARATOR) if part.strip()]


def render_quarter(first_day: date | None) -> str:
    return fiscal.quarter_starting(first_day).label if first_day else ""


def quarter_start(raw: str, lookups=None) -> date | None:
    text_value = raw.strip()
    if not text_value:
        return None
    quarter = fiscal.quarter_or_none(text_value)  # QuarterError is a ValueError
    return quarter.first_day if quarter else None


@functools.lru_cache(maxsize=512)
def _quarter_label(first_day: date) -> str:
    return fiscal.quarter_starting(first_day).label


def _or_empty(write):
    return lambda value: "" if value is None else write(value)


# How a plain value of each kind of column is written as text (CSV, and the text cells of
# an XLSX): the same words as the forms (enum labels, yes/no, ISO dates, quarter labels).
WRITERS = {
    "text": _or_empty(str),
    "int": _or_empty(str),
    "enum": _or_empty(lambda v: v.label),
    "bool": _or_empty(lambda v: "yes" if v else "no"),
    "date": _or_empty(date.isoformat),
    "quarter": _or_empty(_quarter_label),
}


def text_writer(kind: str):
    return WRITERS[kind]
