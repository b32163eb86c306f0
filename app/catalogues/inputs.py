"""A threat's or a countermeasure's mapping to a library entry as the form and the API give
it, declared once: the library, the entry (a picker's text or a bare reference) and the day
it takes effect, with the messages this area has always given. Whether the library and the
entry exist and suit the record is the service's (``app.catalogues.mappings``)."""

from __future__ import annotations

import re

import marshmallow as ma
from marshmallow import fields

from app.domain import catalogues as rules
from app.inputs import Date, Id, Text, _Plain, whole_number

_REF_IN_TEXT = re.compile(r"^\s*([^\s—–]+)")


def ref_from_text(text: str | None) -> str:
    """The reference a picker's text starts with ("T1566 — Phishing" → "T1566")."""
    found = _REF_IN_TEXT.match(text or "")
    return found.group(1)[: rules.REF_MAX] if found else ""


class LibraryId(_Plain):
    """The id of the library chosen; none is refused."""

    def _read(self, value):
        number = None if value in (None, "") else whole_number(value, 10)
        if not number:
            raise ma.ValidationError("Choose a library.")
        return number

    def json_field(self) -> fields.Field:
        return Id(metadata=self.metadata)


class EntryRef(_Plain):
    """The reference of the entry chosen; "" when none (the service asks for one)."""

    empty = ""

    def _read(self, value):
        return ref_from_text(None if value is None else str(value))

    def json_field(self) -> fields.Field:
        return Text(metadata=self.metadata)


class EffectiveOn(Date):
    """The day a mapping takes effect or ends, within the years a date may have."""

    def _read(self, value):
        day = super()._read(value)
        if day is None:
            raise ma.ValidationError("Give the day the mapping takes effect.")
        return day


class MappingInput(ma.Schema):
    """A mapping to one entry of a library, from a day."""

    library = LibraryId()
    entry = EntryRef()
    on = EffectiveOn(metadata={"description": "Effective on (default today)"})
