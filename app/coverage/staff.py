"""Staff members: create and edit, their leaving date, what a departure would leave
uncovered, and what a person owns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.bulk import insert_new
from app.coverage import figures
from app.coverage.checks import (
    References,
    added,
    check_version,
    coverage_today,
    impact_to_confirm,
    kept_in,
)
from app.coverage.inputs import first_refusal, read_staff_member
from app.domain.coverage import DepartureImpact, departure_impact
from app.extensions import db
from app.models.countermeasures import Countermeasure, CountermeasureStatus
from app.models.systems import Responsibility, StaffMember, System
from app.models.threats import Threat, ThreatStatus
from app.validation import FieldErrors, InputError


def _check_user_link(
    user_id: int | None, staff_id: int | None, refs: References | None = None
) -> int | None:
    if user_id is None:
        return None
    refs = refs or References()
    if not refs.user_exists(user_id):
        raise InputError({"user_id": "That user account does not exist."})
    other = refs.staff_linked_to(user_id, staff_id)
    if other is not None:
        raise InputError({"user_id": f"That user account is already linked to {other}."})
    return user_id


def leaving_date(active: bool | None, left_on: date | None, today: date) -> date | None:
    """The leaving date to record: "not active" without a date means gone from today, so
    yesterday was the last working day (the change takes effect today, as a leaving date
    of yesterday would).

    There is no "inactive" without a date: every figure as of a past day must still count
    the person on the days they were there.
    """
    if active is False and left_on is None:
        return today - timedelta(days=1)
    return left_on


def _check_not_before_responsibilities(person: StaffMember, left_on: date | None) -> None:
    """A leaving date before a responsibility's start would leave that period with nobody."""
    if left_on is None:
        return
    row = db.session.execute(
        select(Responsibility.since, System.name)
        .join(System, System.id == Responsibility.system_id)
        .where(Responsibility.staff_member_id == person.id, Responsibility.since > left_on)
        .order_by(Responsibility.since.desc())
        .limit(1)
    ).first()
    if row is not None:
        raise InputError(
            {
                "left_on": f"{person.name} is responsible for {row.name} from "
                f"{row.since.isoformat()}: the leaving date cannot be before that. End or "
                "correct that responsibility first."
            }
        )


def check_new_staff_member(values: dict, refs: References | None = None) -> dict:
    """Every rule ``create_staff_member`` applies, without writing: the clean values
    (``active`` False without a date: gone from today) or InputError. The CSV import
    calls it."""
    refs = refs or References()
    clean, refused = read_staff_member(values)
    errors = FieldErrors(refused)
    # A leaving date wins over a ticked box: to record someone as back, clear the date.
    active = clean.pop("active")
    if "left_on" not in refused:
        clean["left_on"] = leaving_date(active, clean["left_on"], refs.today)
    if "user_id" not in refused:
        with kept_in(errors):
            _check_user_link(clean["user_id"], None, refs)
    errors.raise_if_any()
    return clean


def create_staff_member(
    *,
    name: str,
    email: str | None = None,
    team: str = "",
    active: bool | None = None,
    left_on: date | None = None,
    user_id: int | None = None,
) -> StaffMember:
    # The keyword arguments, as the input schema reads them.
    return added(StaffMember(**check_new_staff_member(locals())))


def create_staff_members(cleans: list[dict], audited: bool = True) -> list[int]:
    """Add many staff members (``check_new_staff_member``'s values) in bulk, as
    ``create_staff_member`` would, with an "import" audit row each unless not ``audited``."""
    return insert_new(StaffMember, cleans, "name", audited)


def departure_preview(person: StaffMember, left_on: date) -> DepartureImpact:
    """Production systems that become SPOF or uncovered the day after ``left_on``."""
    day_after = left_on + timedelta(days=1)
    systems, staff, responsibilities = figures.load_facts(day_after)
    return departure_impact(systems, staff, responsibilities, person.id, left_on)


def update_staff_member(
    person: StaffMember,
    *,
    version: int | None,
    name: str,
    email: str | None,
    team: str,
    active: bool | None,
    left_on: date | None,
    user_id: int | None,
    confirm_impact: bool = False,
) -> StaffMember:
    """Unticking Active (``active=False`` without a date) records leaving today, through the
    same departure-impact check and confirmation as a leaving date."""
    check_version(person, version)
    clean, refused = read_staff_member(
        dict(name=name, email=email, team=team, active=active, left_on=left_on, user_id=user_id)
    )
    # An edit stops at its first refusal, in this order (the email's last).
    first_refusal(refused, "name", "team", "user_id")
    user_id = _check_user_link(clean["user_id"], person.id)
    first_refusal(refused, "left_on")
    left_on = leaving_date(clean["active"], clean["left_on"], coverage_today())
    _check_not_before_responsibilities(person, left_on)
    # Only a new or earlier leaving date can take coverage away.
    if left_on is not None and (person.left_on is None or left_on < person.left_on):
        impact = departure_preview(person, left_on)
        if impact.has_impact and not confirm_impact:
            raise impact_to_confirm(impact)
    first_refusal(refused, "email")
    person.name, person.email, person.team = clean["name"], clean["email"], clean["team"]
    person.left_on = left_on
    person.user_id = user_id
    db.session.flush()
    return person


@dataclass
class Ownership:
    threats: list[Threat]
    countermeasures: list[Countermeasure]


def ownership_of(person: StaffMember) -> Ownership:
    """Open threats and live countermeasures owned by the person's user account."""
    if person.user_id is None:
        return Ownership([], [])
    threats = db.session.scalars(
        select(Threat)
        .where(
            Threat.owner_id == person.user_id,
            Threat.archived_at.is_(None),
            Threat.status != ThreatStatus.CLOSED,
        )
        .order_by(Threat.residual_score.desc(), Threat.title)
    ).all()
    countermeasures = db.session.scalars(
        select(Countermeasure)
        .where(
            Countermeasure.owner_id == person.user_id,
            Countermeasure.status != CountermeasureStatus.RETIRED,
        )
        .order_by(Countermeasure.title)
    ).all()
    return Ownership(list(threats), list(countermeasures))


# Responsibilities.
