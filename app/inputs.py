"""The types input is read as, declared once and shared by the forms, the API and the CSV
import: text with a length, a choice from an enum, a date, an id, a list of ids or names,
a fiscal quarter label.

Two families. The API's body fields (``Text``, ``Id``, ``Day``, ``Choice``...) are strict
JSON types: a wrong type is a 422 from the API itself. The register's fields (``Words``,
``Named``, ``Date``, ``OptionalId``, ``IdList``, ``NameList``) read plain values from any
caller (a form's text, a CSV cell, a JSON value, a Python value) and refuse with the
messages a person reads beside the field; ``read`` loads a record's values with them and
collects one message per field instead of stopping at the first.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from copy import copy
from datetime import date, datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from app import fiscal
from app.validation import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_ID,
    InputError,
    check_date_range,
    parse_text,
)

EARLIEST = date(FIRST_YEAR, 1, 1)
LATEST = date(LAST_YEAR, 12, 31)


# ---- the API's body fields ------------------------------------------------------------


def _no_nul(value: str) -> bool:
    # PostgreSQL refuses NUL characters in text; refuse them here with a 422 instead.
    if "\x00" in value:
        raise ma.ValidationError("Must not contain NUL characters.")
    return True


def Text(**kwargs) -> fields.String:  # noqa: N802 - a field factory, used like a class
    return fields.String(validate=[validate.Length(max=200), _no_nul], **kwargs)


def LongText(**kwargs) -> fields.String:  # noqa: N802
    return fields.String(validate=[validate.Length(max=20_000), _no_nul], **kwargs)


def Id(**kwargs) -> fields.Integer:  # noqa: N802
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def Day(**kwargs) -> fields.Date:  # noqa: N802
    return fields.Date(validate=validate.Range(min=EARLIEST, max=LATEST), **kwargs)


def Choice(enum_cls, **kwargs) -> fields.Enum:  # noqa: N802
    return fields.Enum(enum_cls, by_value=True, **kwargs)


class Body(ma.Schema):
    """A request body: a field the API does not know is a 422, not silently ignored."""

    class Meta:
        unknown = ma.RAISE


# Labels as the fiscal calendar writes them: "FY20-21 Q2" ("FY2021 Q2" with a January start).
_YEAR_PATTERN = r"FY\s*(\d{2}\s*-\s*\d{2}|\d{4})"
QUARTER_PATTERN = r"^\s*" + _YEAR_PATTERN + r"(\s*[-_]\s*|\s+)Q\s*[1-4]\s*$"
YEAR_PATTERN = r"^\s*" + _YEAR_PATTERN + r"\s*$"


class _Label(fields.String):
    pattern = ""

    def __init__(self, **kwargs):
        metadata = {"pattern": self.pattern, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def parse(self, text: str) -> Any:
        raise NotImplementedError

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            if not re.match(self.pattern, text):
                raise ValueError(f'"{text[:40]}" is not a label like FY20-21 Q2.')
            return self.parse(text)
        except ValueError as error:
            raise ma.ValidationError(str(error)) from None


class QuarterLabel(_Label):
    """A fiscal quarter label, loaded as a Quarter (a clear 422 when it is not one)."""

    pattern = QUARTER_PATTERN

    def parse(self, text):
        return fiscal.parse_quarter(text, fiscal.start_month())


class FiscalYearLabel(_Label):
    """A fiscal year label such as FY20-21, loaded as the year it starts in."""

    pattern = YEAR_PATTERN

    def parse(self, text):
        return fiscal.parse_fiscal_year(text, fiscal.start_month())


# ---- the register's fields: plain values from any caller --------------------------------


class _Plain(fields.Field):
    """A field that reads every value itself, None and "" included (``read`` gives each
    field a value, so a missing one is read as None)."""

    # What a refused value reads as, for the rules that look at the others.
    empty: Any = None

    def deserialize(self, value, attr=None, data=None, **kwargs):
        return self._read(None if value is ma.missing else value)

    def _read(self, value: Any) -> Any:
        raise NotImplementedError

    def json_field(self) -> fields.Field:
        """The JSON type the API reads this field as (``body_of``), documented alike."""
        raise NotImplementedError


class Checked(_Plain):
    """A value read by an area's own parser, with that area's messages: ``check(value,
    errors)`` gives the clean value and puts a message in ``errors`` when it refuses it."""

    def check(self, value: Any, errors: dict[str, str]) -> Any:
        raise NotImplementedError

    def _read(self, value):
        errors: dict[str, str] = {}
        clean = self.check(value, errors)
        if errors:
            raise ma.ValidationError(next(iter(errors.values())))
        return clean


def text_json(maximum: int, metadata: Mapping[str, Any]) -> fields.Field:
    """The JSON text field of a column of ``maximum`` characters; the length rule, with
    its message, is the input field's and is read after."""
    factory = Text if maximum <= 200 else LongText
    return factory(metadata=metadata)


class CheckedText(Checked):
    """Text read by an area's own parser (``check``), at most ``maximum`` characters; None
    reads as ""."""

    empty = ""

    def __init__(self, maximum: int, **kwargs):
        self.maximum = maximum
        super().__init__(**kwargs)

    def json_field(self) -> fields.Field:
        return text_json(self.maximum, self.metadata)


class Written(CheckedText):
    """Text, stripped, at most ``maximum`` characters, refused with an area's own words:
    ``missing`` when empty (None: empty is fine), ``too_long`` (``{max_length}``) when longer."""

    def __init__(
        self,
        maximum: int,
        missing: str | None = None,
        too_long: str = "Use at most {max_length} characters.",
        **kwargs,
    ):
        self.missing, self.too_long = missing, too_long
        super().__init__(maximum, **kwargs)

    def check(self, value, errors):
        return parse_text(
            value,
            "text",
            errors,
            max_length=self.maximum,
            missing=self.missing,
            too_long=self.too_long,
        )


def _empty(value: Any) -> bool:
    return value is None or value == ""


class Words(_Plain):
    """Text, stripped, at most ``maximum`` characters; None reads as ""."""

    empty = ""

    def __init__(self, maximum: int, label: str, **kwargs):
        self.maximum = maximum
        self.label = label
        super().__init__(**kwargs)

    def _read(self, value):
        text = "" if value is None else str(value).strip()
        if len(text) > self.maximum:
            raise ma.ValidationError(
                f"{self.label} is too long: {len(text):,} characters, at most {self.maximum:,}."
            )
        return text

    def json_field(self) -> fields.Field:
        return text_json(self.maximum, self.metadata)


class Named(_Plain):
    """A member of ``enum_cls`` by its name or value, case ignored; empty reads as None."""

    def __init__(self, enum_cls: type[enum.Enum], label: str, **kwargs):
        self.enum_cls = enum_cls
        self.label = label
        # By name or value, case ignored; the first member declared wins a clash.
        self.members: dict[str, enum.Enum] = {}
        for member in enum_cls:
            for word in (member.name, str(member.value)):
                self.members.setdefault(word.lower(), member)
        super().__init__(**kwargs)

    def _read(self, value):
        if _empty(value):
            return None
        if isinstance(value, self.enum_cls):
            return value
        text = str(value).strip()
        member = self.members.get(text.lower())
        if member is not None:
            return member
        choices = ", ".join(str(m.value) for m in self.enum_cls)
        raise ma.ValidationError(f"Unknown {self.label} {text[:40]!r}; choose one of {choices}.")

    def json_field(self) -> fields.Field:
        return Choice(self.enum_cls, allow_none=self.allow_none, metadata=self.metadata)


class Date(_Plain):
    """A business date (a date, or ISO text), within the years a date may have (a date
    given as one is left to the service's rules for that date when not ``ranged``)."""

    def __init__(self, ranged: bool = True, **kwargs):
        self.ranged = ranged
        super().__init__(**kwargs)

    def _read(self, value):
        if _empty(value):
            return None
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            if not self.ranged:
                return value
            try:
                check_date_range(self.name or "", value)
            except InputError as error:
                raise ma.ValidationError(next(iter(error.errors.values()))) from None
            return value
        try:
            return fiscal.parse_date_or_none(str(value)[:40])
        except ValueError as error:
            raise ma.ValidationError(str(error)) from None

    def json_field(self) -> fields.Field:
        return Day(allow_none=True, metadata=self.metadata)


def whole_number(value: Any, digits: int) -> int | None:
    """An int, or digit text shorter than ``digits``; None for anything else (a bool too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() and len(text) < digits else None


class OptionalId(_Plain):
    """The id of a record chosen from a list; empty reads as None."""

    def __init__(self, label: str, **kwargs):
        self.label = label
        super().__init__(**kwargs)

    def _read(self, value):
        if _empty(value):
            return None
        number = whole_number(value, 10)
        if number is None:
            raise ma.ValidationError(f"Choose a valid {self.label}.")
        return number

    def json_field(self) -> fields.Field:
        return Id(allow_none=True, metadata=self.metadata)


class IdList(_Plain):
    """Ids chosen from a list (one, or a list), each once, in the order given."""

    empty: list[int] = []

    def __init__(self, message: str, **kwargs):
        self.message = message
        super().__init__(**kwargs)

    def _read(self, value: Any) -> list[int]:
        if _empty(value):
            return []
        items = [value] if isinstance(value, int | str) else list(value)
        ids: list[int] = []
        for item in items:
            number = None if _empty(item) else whole_number(item, 10)
            if number is None:
                raise ma.ValidationError(self.message)
            if number not in ids:
                ids.append(number)
        return ids

    def json_field(self) -> fields.Field:
        return fields.List(Id(), validate=validate.Length(max=100), metadata=self.metadata)


class NameList(_Plain):
    """Names (a list, or one comma-separated text), spaces folded, lower case, each once."""

    empty: list[str] = []

    def __init__(self, maximum: int, most: int, too_long: str, too_many: str, **kwargs):
        self.maximum, self.most = maximum, most
        self.too_long, self.too_many = too_long, too_many
        super().__init__(**kwargs)

    def _read(self, value: Any) -> list[str]:
        if value is None:
            return []
        items = value.split(",") if isinstance(value, str) else list(value)
        names: list[str] = []
        for item in items:
            name = " ".join(str(item).split()).lower()
            if not name:
                continue
            if len(name) > self.maximum:
                raise ma.ValidationError(self.too_long)
            if name not in names:
                names.append(name)
        if len(names) > self.most:
            raise ma.ValidationError(self.too_many)
        return names

    def json_field(self) -> fields.Field:
        return fields.List(Text(), validate=validate.Length(max=100), metadata=self.metadata)


def body_of(
    schema: type[ma.Schema], name: str, /, exclude: tuple[str, ...] = (), **more: fields.Field
) -> type[Body]:
    """The API's request body for the input ``schema``: each field's JSON type
    (``json_field``), less ``exclude``, with ``more`` fields (or replacements; a field
    may be called ``name``)."""
    declared: dict[str, Any] = {
        key: field.json_field()  # type: ignore[attr-defined]
        for key, field in schema._declared_fields.items()
        if key not in exclude
    }
    return type(name, (Body,), {**declared, **more})


def read(schema: ma.Schema, values: dict) -> tuple[dict, dict[str, str]]:
    """Every field of ``schema`` read from ``values`` (a missing one as None): the clean
    values (a refused field as its ``empty`` value), and a message for each field refused,
    in the order the schema declares them.

    Each field reads its own value: an input schema has no rule across fields (those are
    the service's), and a file of 100,000 rows is read without marshmallow's per-load work.
    """
    clean: dict[str, Any] = {}
    refused: dict[str, str] = {}
    for name, field in schema.load_fields.items():
        try:
            clean[name] = field.deserialize(values.get(name))
        except ma.ValidationError as error:
            refused[name] = _first(error.messages)
            clean[name] = copy(getattr(field, "empty", None))
    return clean, refused


def _first(message: Any) -> str:
    return str(message[0] if isinstance(message, list) else message)


def loaded(schema: ma.Schema, values: dict) -> dict:
    """Every field of ``schema`` read from ``values``, or InputError naming each refused."""
    clean, refused = read(schema, values)
    if refused:
        raise InputError(refused)
    return clean


def read_value(field: fields.Field, value: Any, name: str) -> Any:
    """One value read by ``field`` (outside a schema), or InputError ``{name: why not}``."""
    try:
        return field.deserialize(value)
    except ma.ValidationError as error:
        raise InputError({name: _first(error.messages)}) from None
