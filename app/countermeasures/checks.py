"""What the countermeasure rules share: field limits, the parsers of plain values, the
records a change refers to (``References``), the version check, and the dated status and
target facts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from app import fiscal
from app.extensions import db
from app.models.countermeasures import (
    Countermeasure,
    CountermeasureStatusChange,
    CountermeasureTargetPeriod,
)
from app.models.threats import Threat
from app.models.user import User
from app.validation import ConflictError, InputError, check_date_range, parse_enum, parse_text

TEXT_MAX = 20_000
MAX_QUARTER_TARGET = 50
MAX_YEARLY_GOAL = 500

UNSET = object()


# --- parsing plain values -------------------------------------------------------------


def enum_field(enum_cls, value, field: str, errors: dict, required: bool = True):
    return parse_enum(
        enum_cls,
        value,
        field,
        errors,
        refusal='"{text:.40}" is not one of: {choices}.',
        missing="Choose one." if required else None,
    )


def text_field(value, field: str, errors: dict, *, required=False, max_length=TEXT_MAX) -> str:
    return parse_text(
        value,
        field,
        errors,
        max_length=max_length,
        missing="This is required." if required else None,
        too_long="Keep it under {max_length:,} characters (this is {length:,}).",
    )


class References:
    """What the rules look up: today, users, threats.

    This one reads the database as each rule needs it; the CSV import hands the rules one
    loaded once for the whole file (``app.transfer.entities``), so the same rules run
    without a query per row.
    """

    def __init__(self) -> None:
        self.today = fiscal.today()

    def user_exists(self, user_id: int) -> bool:
        return db.session.get(User, user_id) is not None

    def threats(self, ids: list[int]) -> dict:
        """The threats with these ids (objects with ``id``, ``title`` and ``archived_at``)."""
        return {t.id: t for t in db.session.scalars(select(Threat).where(Threat.id.in_(ids)))}


def check_not_future(value: date | None, field: str, errors: dict, what: str, today=None) -> None:
    today = today or fiscal.today()
    if value is not None and value > today:
        errors[field] = f"The {what} cannot be in the future (today is {today.isoformat()})."
    else:
        try:
            check_date_range(field, value)
        except InputError as error:
            errors.update(error.errors)


def threat_numbers(threat_ids: Iterable | None, errors: dict) -> list[int]:
    """Threat numbers, each once, in the order given (none when one is not a number)."""
    ids: list[int] = []
    for raw in threat_ids or ():
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors["threat_ids"] = f'"{str(raw)[:20]}" is not a threat number.'
            return []
        if value not in ids:
            ids.append(value)
    return ids


def threats_field(
    threat_ids: Iterable,
    errors: dict,
    already_linked: Iterable[Threat] = (),
    refs: References | None = None,
) -> list:
    ids = threat_numbers(threat_ids, errors)
    if not ids:
        return []
    found = (refs or References()).threats(ids)
    missing = [str(i) for i in ids if i not in found]
    if missing:
        errors["threat_ids"] = f"No threat numbered {', '.join(missing)}."
        return []
    linked = {t.id for t in already_linked}
    archived = [found[i] for i in ids if found[i].archived_at is not None and i not in linked]
    if archived:
        names = ", ".join(f'#{t.id} "{t.title}"' for t in archived)
        errors["threat_ids"] = (
            f"Threat {names} is archived: a countermeasure cannot be linked to an archived "
            "threat. Restore the threat first."
        )
        return []
    return [found[i] for i in ids]


def check_version(countermeasure: Countermeasure, version) -> None:
    """``version``: the version the person read (none given: not checked)."""
    if version in (None, ""):
        return
    try:
        expected = int(version)
    except (TypeError, ValueError):
        raise ConflictError() from None
    if expected != countermeasure.version:
        raise ConflictError(
            "Someone else changed this countermeasure since you opened it. "
            "Reload it to see their changes, then make yours again."
        )


def record_status(countermeasure, status, changed_on, user_id) -> None:
    countermeasure.status = status
    countermeasure.status_changes.append(
        CountermeasureStatusChange(status=status, changed_on=changed_on, user_id=user_id)
    )


def last_status_change_on(countermeasure: Countermeasure) -> date | None:
    dates = [c.changed_on for c in countermeasure.status_changes]
    return max(dates) if dates else None


def set_target(countermeasure: Countermeasure, start: date | None, on: date, user_id) -> None:
    """The target quarter from ``on``: the period in force ends there, a new one begins.

    "Slipped" reads the target in force on a quarter's end, so changing it today leaves
    the quarters already ended as they were."""
    if countermeasure.target_quarter_start == start and (
        start is None or countermeasure.target_periods
    ):
        return
    countermeasure.target_quarter_start = start
    current = next((p for p in countermeasure.target_periods if p.valid_until is None), None)
    if current is not None and current.valid_from >= on:
        # Changed again the same day: that day's period takes the new target.
        current.target_quarter_start = start
        return
    if current is not None:
        current.valid_until = on
    countermeasure.target_periods.append(
        CountermeasureTargetPeriod(
            target_quarter_start=start, valid_from=on, valid_until=None, user_id=user_id
        )
    )
