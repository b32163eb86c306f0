"""What the coverage rules share: field limits, the parsers of plain values, the version
check, and the records a change refers to (``References``).

Plain values in, model objects out; :class:`InputError` for anything refused (nothing is
written: the caller rolls back), :class:`ConflictError` for a stale version. No Flask
request here, so the API can call the same functions."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.domain.coverage import DepartureImpact
from app.extensions import db
from app.models.systems import Responsibility, ResponsibilityKind, StaffMember, System
from app.models.user import User
from app.validation import (
    ConfirmationRequiredError,
    ConflictError,
    FieldErrors,
    InputError,
    parse_enum,
    parse_text,
)

NAME_MAX = 160
TEAM_MAX = 120
DESCRIPTION_MAX = 20_000
EMAIL_MAX = 254
NOTES_MAX = 5_000
TITLE_MAX = 200


def impact_to_confirm(impact: DepartureImpact) -> ConfirmationRequiredError:
    """The change would create a new SPOF or uncovered system: ask before saving it."""
    parts = []
    if impact.new_uncovered_systems:
        parts.append(f"leave {_systems(impact.new_uncovered_systems)} uncovered")
    if impact.new_spof_systems:
        systems = impact.new_spof_systems
        what = "a single point of failure" if len(systems) == 1 else "single points of failure"
        parts.append(f"make {_systems(systems)} {what}")
    return ConfirmationRequiredError(
        {
            "confirm_impact": "From "
            + impact.effective_on.isoformat()
            + " this would "
            + " and ".join(parts)
            + ". Tick the confirmation box to save anyway."
        },
        impact,
    )


def _systems(systems) -> str:
    """'1 production system (DNS)', '2 production systems (A, B)'."""
    noun = "production system" if len(systems) == 1 else "production systems"
    return f"{len(systems)} {noun} ({', '.join(s.name for s in systems)})"


def check_version(obj, version: int | None) -> None:
    if version is not None and version != obj.version:
        raise ConflictError(
            f"Someone else changed {obj} since you opened it. Reload the page to see their "
            "changes, then make yours again."
        )


def clean_text(value: str | None, label: str, field: str, max_length: int, required=True) -> str:
    """The text stripped, or InputError: empty when ``required``, or too long."""
    errors = FieldErrors()
    text = text_field({field: value}, field, label, max_length, errors, required)
    errors.raise_if_any()
    return text


@contextmanager
def kept_in(errors: FieldErrors) -> Iterator[None]:
    """Run a rule that raises InputError with its messages kept in ``errors``: the check of
    a new record names every field refused, not only the first."""
    try:
        yield
    except InputError as error:
        errors.update(error.errors)


def added(record):
    """The new ``record`` in the session, flushed so that it has its id."""
    db.session.add(record)
    db.session.flush()
    return record


def text_field(values: dict, field: str, label: str, max_length: int, errors: dict, required=True):
    return parse_text(
        values.get(field),
        field,
        errors,
        max_length=max_length,
        missing=f"Enter {label}." if required else None,
    )


def choice_field(cls: type[enum.Enum], value, default, field: str, errors: dict):
    """An enum member from a member, its name or its value; ``default`` when empty."""
    return parse_enum(
        cls, value, field, errors, refusal="Choose one of: {choices}.", default=default
    )


# What the rules look up.


@dataclass(frozen=True)
class Existing:
    """A record a new one would clash with: in the database, or, with ``line``, an earlier
    row of the file being imported. ``since``/``until`` for a responsibility."""

    line: int | None = None
    since: date | None = None
    until: date | None = None

    @property
    def where(self) -> str:
        return f" (line {self.line} of this file)" if self.line else ""


def periods_overlap(since: date, until: date | None, other: Existing) -> bool:
    """Whether [since, until] and the other period share a day (None: open-ended)."""
    return (other.until is None or other.until >= since) and (
        until is None or other.since is None or other.since <= until
    )


class References:
    """What the coverage rules look up: today, systems by name, staff, users, responsibilities.

    This one reads the database as each rule needs it; the CSV import hands the rules one
    loaded once for the whole file that also knows the file's earlier rows
    (``app.transfer.entities``), so the same rules run without a query per row.
    """

    def __init__(self) -> None:
        self.today = coverage_today()

    def system_named(self, name: str, exclude_id: int | None = None) -> Existing | None:
        query = select(System.id).where(func.lower(System.name) == func.lower(name))
        if exclude_id is not None:
            query = query.where(System.id != exclude_id)
        return Existing() if db.session.scalar(query.limit(1)) is not None else None

    def system_exists(self, system_id: int) -> bool:
        return db.session.get(System, system_id) is not None

    def staff_exists(self, staff_id: int) -> bool:
        return db.session.get(StaffMember, staff_id) is not None

    def user_exists(self, user_id: int) -> bool:
        return db.session.get(User, user_id) is not None

    def staff_linked_to(self, user_id: int, exclude_id: int | None = None) -> str | None:
        """The name of the staff member already linked to that user account, if any."""
        query = select(StaffMember.name).where(StaffMember.user_id == user_id)
        if exclude_id is not None:
            query = query.where(StaffMember.id != exclude_id)
        return db.session.scalar(query.limit(1))

    def responsibilities(
        self,
        staff_id: int,
        system_id: int,
        kind: ResponsibilityKind,
        exclude_id: int | None = None,
    ) -> list[Existing]:
        query = select(Responsibility.since, Responsibility.until).where(
            Responsibility.staff_member_id == staff_id,
            Responsibility.system_id == system_id,
            Responsibility.kind == kind,
        )
        if exclude_id is not None:
            query = query.where(Responsibility.id != exclude_id)
        return [
            Existing(since=since, until=until)
            for since, until in db.session.execute(query.order_by(Responsibility.since))
        ]


# Systems.


def coverage_today() -> date:
    from app import fiscal

    return fiscal.today()
