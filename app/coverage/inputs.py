"""A system's, a staff member's, a responsibility's and a position's values as every caller
gives them (the form, the API, a CSV row), declared once: their types, choices and lengths,
with the messages this area has always given. ``read_system``, ``read_staff_member``,
``read_responsibility`` and ``read_position`` turn them into clean values and a message per
refused field; the rules that need other records (a name used once, a dated change not
before the last one, a user account linked once, systems that exist) are the services'
(``app.coverage.systems``, ``app.coverage.staff``, ``app.coverage.positions``...)."""

from __future__ import annotations

import enum
import functools
from typing import Any

import marshmallow as ma
from marshmallow import fields

from app.coverage.checks import (
    DESCRIPTION_MAX,
    EMAIL_MAX,
    NAME_MAX,
    NOTES_MAX,
    TEAM_MAX,
    TITLE_MAX,
    choice_field,
    text_field,
)
from app.inputs import (
    Checked,
    Choice,
    Date,
    Id,
    IdList,
    OptionalId,
    _Plain,
    read,
    text_json,
)
from app.models.systems import Criticality, PositionStatus, ResponsibilityKind
from app.validation import InputError


class Words(Checked):
    """Text, stripped, at most ``maximum`` characters; refused empty when ``needed``."""

    empty = ""

    def __init__(self, maximum: int, label: str, needed: bool = False, **kwargs):
        self.maximum, self.label, self.needed = maximum, label, needed
        super().__init__(**kwargs)

    def check(self, value, errors):
        return text_field({"text": value}, "text", self.label, self.maximum, errors, self.needed)

    def json_field(self) -> fields.Field:
        return text_json(self.maximum, self.metadata)


class Named(Checked):
    """A member of ``enum_cls`` by its name or value; ``default`` when empty."""

    def __init__(self, enum_cls: type[enum.Enum], default: enum.Enum, **kwargs):
        self.enum_cls, self.default = enum_cls, default
        super().__init__(**kwargs)

    def check(self, value, errors):
        return choice_field(self.enum_cls, value, self.default, "choice", errors)

    def json_field(self) -> fields.Field:
        return Choice(self.enum_cls, metadata=self.metadata)


class Flag(_Plain):
    """Yes or no; none given reads as ``default``."""

    def __init__(self, default: bool | None, **kwargs):
        self.default = default
        super().__init__(**kwargs)

    def _read(self, value):
        return self.default if value is None else bool(value)

    def json_field(self) -> fields.Field:
        return fields.Boolean(metadata=self.metadata)


class SystemInput(ma.Schema):
    """A system's values; the last two date a change of production flag or criticality."""

    name = Words(NAME_MAX, "a name", needed=True, metadata={"description": "Required, unique"})
    description = Words(DESCRIPTION_MAX, "a description")
    team = Words(TEAM_MAX, "a team")
    criticality = Named(Criticality, Criticality.MEDIUM)
    in_production = Flag(True)
    retired_on = Date()
    # Checked with the day and the system's earlier changes (``app.coverage.systems``).
    production_changed_on = Date(
        ranged=False,
        metadata={"description": "When in_production changes: the day it took effect (today)"},
    )
    criticality_changed_on = Date(
        ranged=False,
        metadata={"description": "When criticality changes: the day it took effect (today)"},
    )


# What a new system is made with; an edit also dates its changes.
NEW = ("name", "description", "team", "criticality", "in_production", "retired_on")
DATED = ("production_changed_on", "criticality_changed_on")


@functools.lru_cache(maxsize=8)
def _reader(schema: type[ma.Schema], names: tuple[str, ...]) -> ma.Schema:
    return schema(only=names)


def read_system(
    values: dict[str, Any], names: tuple[str, ...] = NEW
) -> tuple[dict, dict[str, str]]:
    """The fields ``names`` of a system read from ``values``: the clean values and a
    message per refused field."""
    return read(_reader(SystemInput, names), values)


class StaffMemberInput(ma.Schema):
    """A staff member's values: ``active`` unticked without a leaving date reads as gone
    from today, which needs the day (``app.coverage.staff``)."""

    name = Words(NAME_MAX, "a name", needed=True, metadata={"description": "Required"})
    email = Words(EMAIL_MAX, "an email")
    team = Words(TEAM_MAX, "a team")
    active = Flag(None)
    left_on = Date()
    user_id = OptionalId(
        "user account", metadata={"description": "The user account of this person"}
    )


STAFF = ("name", "email", "team", "active", "left_on", "user_id")


def read_staff_member(values: dict[str, Any]) -> tuple[dict, dict[str, str]]:
    """A staff member's fields read from ``values``: the clean values (no email: None) and
    a message per refused field."""
    clean, refused = read(_reader(StaffMemberInput, STAFF), values)
    clean["email"] = clean["email"] or None
    return clean, refused


class Chosen(OptionalId):
    """The id of a record chosen from a list, required by the API; anything else but an id
    is refused with ``message`` (the service says the same of an id it cannot find)."""

    def __init__(self, message: str, **kwargs):
        self.message = message
        super().__init__("", **kwargs)

    def _read(self, value):
        try:
            return super()._read(value)
        except ma.ValidationError:
            raise ma.ValidationError(self.message) from None

    def json_field(self) -> fields.Field:
        return Id(metadata=self.metadata)


class ResponsibilityInput(ma.Schema):
    """Who is responsible for which system, from when until when: that the two records
    exist, the start is given and before the end, and no period overlaps another of the
    same kind are the service's (``app.coverage.responsibilities``)."""

    staff_member_id = Chosen("Choose a staff member.")
    system_id = Chosen("Choose a system.")
    kind = Named(ResponsibilityKind, ResponsibilityKind.PRIMARY)
    since = Date()
    until = Date()


RESPONSIBILITY = ("staff_member_id", "system_id", "kind", "since", "until")
# An edit keeps the person and the system.
PERIOD = ("kind", "since", "until")


def read_responsibility(
    values: dict[str, Any], names: tuple[str, ...] = RESPONSIBILITY
) -> tuple[dict, dict[str, str]]:
    """The fields ``names`` of a responsibility read from ``values``: the clean values and
    a message per refused field."""
    return read(_reader(ResponsibilityInput, names), values)


class PositionInput(ma.Schema):
    """A hiring position's values: that the chosen systems exist, that the opening date is
    given and that a new position starts open are the service's (``app.coverage.positions``)."""

    title = Words(TITLE_MAX, "a title", needed=True, metadata={"description": "Required"})
    team = Words(TEAM_MAX, "a team")
    system_ids = IdList("Choose the systems from the list.")
    opened_on = Date()
    notes = Words(NOTES_MAX, "notes")
    status = Named(PositionStatus, PositionStatus.PLANNED)


# A new position starts somewhere in the pipeline before filled (the service's rule).
OPENING = (PositionStatus.PLANNED, PositionStatus.ACTIVE_HIRING, PositionStatus.FINAL_STAGES)
POSITION = ("title", "team", "system_ids", "opened_on", "notes", "status")
# An edit keeps the opening date; the status has its own dated changes.
POSITION_EDIT = ("title", "team", "system_ids", "notes")


def read_position(
    values: dict[str, Any], names: tuple[str, ...] = POSITION
) -> tuple[dict, dict[str, str]]:
    """The fields ``names`` of a position read from ``values``: the clean values and a
    message per refused field."""
    return read(_reader(PositionInput, names), values)


def choices(field: str, schema: type[ma.Schema]) -> list[tuple[str, str]]:
    """A choice field's options as a form lists them: (name, label)."""
    declared = schema._declared_fields[field]
    assert isinstance(declared, Named)
    return [(member.name, member.label) for member in declared.enum_cls]  # type: ignore[attr-defined]


def max_length(field: str, schema: type[ma.Schema] = SystemInput) -> int:
    """The most characters a text field of ``schema`` holds (for a form or a file to say so)."""
    declared = schema._declared_fields[field]
    assert isinstance(declared, Words)
    return declared.maximum


def first_refusal(refused: dict[str, str], *names: str) -> None:
    """InputError naming the first of ``names`` refused (an edit stops at the first)."""
    for name in names:
        if name in refused:
            raise InputError({name: refused[name]})
