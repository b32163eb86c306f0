"""Business rules for systems, staff, responsibilities and SPOF positions.

Plain values in, model objects out; :class:`InputError` for anything refused (nothing is
written: the caller rolls back), :class:`ConflictError` for a stale version. No Flask
request here, so the API can call the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, or_, select

from app.coverage import figures
from app.domain.coverage import (
    DepartureImpact,
    ResponsibilityFact,
    departure_impact,
    responsibility_end_impact,
)
from app.extensions import db
from app.models.countermeasures import Countermeasure, CountermeasureStatus
from app.models.setting import set_setting
from app.models.systems import (
    Criticality,
    Position,
    PositionStatus,
    PositionStatusChange,
    Responsibility,
    ResponsibilityKind,
    StaffMember,
    System,
)
from app.models.threats import Threat, ThreatStatus
from app.models.user import User
from app.validation import ConflictError, InputError, check_date_range

NAME_MAX = 160
TEAM_MAX = 120


class ConfirmationRequiredError(InputError):
    """The change would create a new SPOF or uncovered system: ask before saving it."""

    def __init__(self, impact: DepartureImpact):
        self.impact = impact
        parts = []
        if impact.new_uncovered_systems:
            parts.append(f"leave {_systems(impact.new_uncovered_systems)} uncovered")
        if impact.new_spof_systems:
            systems = impact.new_spof_systems
            what = "a single point of failure" if len(systems) == 1 else "single points of failure"
            parts.append(f"make {_systems(systems)} {what}")
        super().__init__(
            {
                "confirm_impact": "From "
                + impact.effective_on.isoformat()
                + " this would "
                + " and ".join(parts)
                + ". Tick the confirmation box to save anyway."
            }
        )


def _systems(systems) -> str:
    """'1 production system (DNS)', '2 production systems (A, B)'."""
    noun = "production system" if len(systems) == 1 else "production systems"
    return f"{len(systems)} {noun} ({', '.join(s.name for s in systems)})"


def _check_version(obj, version: int | None) -> None:
    if version is not None and version != obj.version:
        raise ConflictError(
            f"Someone else changed {obj} since you opened it. Reload the page to see their "
            "changes, then make yours again."
        )


def _clean_text(value: str | None, label: str, field: str, max_length: int, required=True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InputError({field: f"Enter {label}."})
    if len(text) > max_length:
        raise InputError({field: f"Use at most {max_length} characters."})
    return text


# Systems.


def _check_system_name(name: str, exclude_id: int | None) -> str:
    name = _clean_text(name, "a name", "name", NAME_MAX)
    query = select(System.id).where(func.lower(System.name) == name.lower())
    if exclude_id is not None:
        query = query.where(System.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise InputError({"name": f'A system named "{name}" already exists.'})
    return name


def create_system(
    *,
    name: str,
    description: str = "",
    team: str = "",
    criticality: Criticality = Criticality.MEDIUM,
    in_production: bool = True,
    retired_on: date | None = None,
) -> System:
    check_date_range("retired_on", retired_on)
    system = System(
        name=_check_system_name(name, None),
        description=(description or "").strip(),
        team=_clean_text(team, "a team", "team", TEAM_MAX, required=False),
        criticality=criticality,
        in_production=in_production,
        retired_on=retired_on,
    )
    db.session.add(system)
    db.session.flush()
    return system


def update_system(
    system: System,
    *,
    version: int | None,
    name: str,
    description: str,
    team: str,
    criticality: Criticality,
    in_production: bool,
    retired_on: date | None,
) -> System:
    _check_version(system, version)
    system.name = _check_system_name(name, system.id)
    system.description = (description or "").strip()
    system.team = _clean_text(team, "a team", "team", TEAM_MAX, required=False)
    system.criticality = criticality
    system.in_production = in_production
    check_date_range("retired_on", retired_on)
    system.retired_on = retired_on
    db.session.flush()
    return system


# Staff members.


def _check_user_link(user_id: int | None, staff_id: int | None) -> int | None:
    if user_id is None:
        return None
    if db.session.get(User, user_id) is None:
        raise InputError({"user_id": "That user account does not exist."})
    query = select(StaffMember.name).where(StaffMember.user_id == user_id)
    if staff_id is not None:
        query = query.where(StaffMember.id != staff_id)
    other = db.session.scalar(query)
    if other is not None:
        raise InputError({"user_id": f"That user account is already linked to {other}."})
    return user_id


def create_staff_member(
    *,
    name: str,
    email: str | None = None,
    team: str = "",
    active: bool = True,
    left_on: date | None = None,
    user_id: int | None = None,
) -> StaffMember:
    check_date_range("left_on", left_on)
    person = StaffMember(
        name=_clean_text(name, "a name", "name", NAME_MAX),
        email=(email or "").strip() or None,
        team=_clean_text(team, "a team", "team", TEAM_MAX, required=False),
        active=active if left_on is None else active and left_on >= _today(),
        left_on=left_on,
        user_id=_check_user_link(user_id, None),
    )
    db.session.add(person)
    db.session.flush()
    return person


def _today() -> date:
    from app import fiscal

    return fiscal.today()


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
    active: bool,
    left_on: date | None,
    user_id: int | None,
    confirm_impact: bool = False,
) -> StaffMember:
    _check_version(person, version)
    name = _clean_text(name, "a name", "name", NAME_MAX)
    team = _clean_text(team, "a team", "team", TEAM_MAX, required=False)
    user_id = _check_user_link(user_id, person.id)
    # Only a new or earlier leaving date can take coverage away.
    check_date_range("left_on", left_on)
    if left_on is not None and (person.left_on is None or left_on < person.left_on):
        impact = departure_preview(person, left_on)
        if impact.has_impact and not confirm_impact:
            raise ConfirmationRequiredError(impact)
    person.name = name
    person.email = (email or "").strip() or None
    person.team = team
    person.left_on = left_on
    person.active = active if left_on is None else active and left_on >= _today()
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


def _check_dates(since: date | None, until: date | None) -> None:
    if since is None:
        raise InputError({"since": "Enter the date the responsibility starts."})
    check_date_range("since", since)
    check_date_range("until", until)
    if until is not None and until < since:
        raise InputError(
            {"until": f"The end date must be on or after the start date ({since.isoformat()})."}
        )


def _check_overlap(
    staff_id: int,
    system_id: int,
    kind: ResponsibilityKind,
    since: date,
    until: date | None,
    exclude_id: int | None,
) -> None:
    query = select(Responsibility).where(
        Responsibility.staff_member_id == staff_id,
        Responsibility.system_id == system_id,
        Responsibility.kind == kind,
        or_(Responsibility.until.is_(None), Responsibility.until >= since),
    )
    if until is not None:
        query = query.where(Responsibility.since <= until)
    if exclude_id is not None:
        query = query.where(Responsibility.id != exclude_id)
    clash = db.session.scalars(query.limit(1)).first()
    if clash is not None:
        end = clash.until.isoformat() if clash.until else "today, open-ended"
        raise InputError(
            {
                "since": f"This person already has a {kind.value} responsibility for this "
                f"system from {clash.since.isoformat()} to {end}; change that one instead."
            }
        )


def add_responsibility(
    *,
    staff_member_id: int | None,
    system_id: int | None,
    kind: ResponsibilityKind = ResponsibilityKind.PRIMARY,
    since: date | None,
    until: date | None = None,
) -> Responsibility:
    person = db.session.get(StaffMember, staff_member_id) if staff_member_id else None
    if person is None:
        raise InputError({"staff_member_id": "Choose a staff member."})
    system = db.session.get(System, system_id) if system_id else None
    if system is None:
        raise InputError({"system_id": "Choose a system."})
    _check_dates(since, until)
    _check_overlap(person.id, system.id, kind, since, until, None)
    responsibility = Responsibility(
        staff_member=person, system=system, kind=kind, since=since, until=until
    )
    db.session.add(responsibility)
    db.session.flush()
    return responsibility


def responsibility_end_preview(responsibility: Responsibility, until: date) -> DepartureImpact:
    day_after = until + timedelta(days=1)
    systems, staff, _ = figures.load_facts(day_after)
    others = figures.responsibility_facts(day_after, day_after, exclude_id=responsibility.id)
    this = ResponsibilityFact(
        responsibility.staff_member_id,
        responsibility.system_id,
        responsibility.since,
        responsibility.until,
        responsibility.kind.value,
    )
    return responsibility_end_impact(systems, staff, [*others, this], len(others), until)


def update_responsibility(
    responsibility: Responsibility,
    *,
    version: int | None,
    kind: ResponsibilityKind,
    since: date | None,
    until: date | None,
    confirm_impact: bool = False,
) -> Responsibility:
    _check_version(responsibility, version)
    _check_dates(since, until)
    _check_overlap(
        responsibility.staff_member_id,
        responsibility.system_id,
        kind,
        since,
        until,
        responsibility.id,
    )
    if until is not None and (responsibility.until is None or until < responsibility.until):
        impact = responsibility_end_preview(responsibility, until)
        if impact.has_impact and not confirm_impact:
            raise ConfirmationRequiredError(impact)
    responsibility.kind = kind
    responsibility.since = since
    responsibility.until = until
    db.session.flush()
    return responsibility


# Positions.


def _systems_by_ids(system_ids: list[int]) -> list[System]:
    if not system_ids:
        return []
    systems = db.session.scalars(select(System).where(System.id.in_(system_ids))).all()
    if len(systems) != len(set(system_ids)):
        raise InputError({"system_ids": "One of the chosen systems no longer exists."})
    return sorted(systems, key=lambda s: s.name.casefold())


def create_position(
    *,
    title: str,
    team: str = "",
    system_ids: list[int] | None = None,
    opened_on: date | None,
    notes: str = "",
    status: PositionStatus = PositionStatus.PLANNED,
    user_id: int | None = None,
) -> Position:
    title = _clean_text(title, "a title", "title", 200)
    if opened_on is None:
        raise InputError({"opened_on": "Enter the date the position was opened."})
    check_date_range("opened_on", opened_on)
    if status in (PositionStatus.FILLED, PositionStatus.CANCELLED):
        raise InputError({"status": "A new position starts planned, in hiring or in final stages."})
    position = Position(
        title=title,
        team=_clean_text(team, "a team", "team", TEAM_MAX, required=False),
        opened_on=opened_on,
        notes=(notes or "").strip(),
        status=status,
        systems=_systems_by_ids(system_ids or []),
    )
    position.status_changes.append(
        PositionStatusChange(status=status, changed_on=opened_on, user_id=user_id, note="Opened")
    )
    db.session.add(position)
    db.session.flush()
    return position


def update_position(
    position: Position,
    *,
    version: int | None,
    title: str,
    team: str,
    system_ids: list[int],
    notes: str,
) -> Position:
    _check_version(position, version)
    position.title = _clean_text(title, "a title", "title", 200)
    position.team = _clean_text(team, "a team", "team", TEAM_MAX, required=False)
    position.systems = _systems_by_ids(system_ids)
    position.notes = (notes or "").strip()
    db.session.flush()
    return position


def change_position_status(
    position: Position,
    *,
    version: int | None,
    status: PositionStatus,
    changed_on: date | None,
    user_id: int | None = None,
    note: str = "",
    hire_id: int | None = None,
    new_hire_name: str = "",
    add_responsibilities: bool = True,
) -> PositionStatusChange:
    """Record a dated status change; filling needs a hire and may hand them the systems."""
    _check_version(position, version)
    if changed_on is None:
        raise InputError({"changed_on": "Enter the date of the change."})
    check_date_range("changed_on", changed_on)
    if status == position.status:
        raise InputError({"status": f"The position is already {status.label.lower()}."})
    latest = max((c.changed_on for c in position.status_changes), default=position.opened_on)
    if changed_on < latest:
        raise InputError(
            {
                "changed_on": "The history already has a change on "
                f"{latest.isoformat()}; a new change cannot be dated before it."
            }
        )
    hire = None
    if status == PositionStatus.FILLED:
        new_hire_name = (new_hire_name or "").strip()
        if hire_id and new_hire_name:
            raise InputError(
                {"hire_id": "Choose an existing staff member or name a new one, not both."}
            )
        if hire_id:
            hire = db.session.get(StaffMember, hire_id)
            if hire is None:
                raise InputError({"hire_id": "That staff member does not exist."})
        elif new_hire_name:
            hire = create_staff_member(name=new_hire_name, team=position.team)
        else:
            raise InputError(
                {
                    "hire_id": "A filled position needs its hire: choose the staff member hired "
                    "or enter the new person's name."
                }
            )
        position.hire = hire
        position.filled_on = changed_on
    elif position.status == PositionStatus.FILLED:
        # Reopened: the earlier hire stays in the history, not on the position.
        position.hire = None
        position.filled_on = None
    change = PositionStatusChange(
        status=status, changed_on=changed_on, user_id=user_id, note=(note or "").strip()
    )
    position.status_changes.append(change)
    position.status = status
    db.session.flush()
    if hire is not None and add_responsibilities:
        hand_over_systems(position, hire, changed_on)
    return change


def hand_over_systems(position: Position, hire: StaffMember, since: date) -> list[Responsibility]:
    """Make the hire responsible for the position's systems from ``since`` (skips duplicates)."""
    added = []
    for system in position.systems:
        existing = db.session.scalar(
            select(Responsibility.id).where(
                Responsibility.staff_member_id == hire.id,
                Responsibility.system_id == system.id,
                or_(Responsibility.until.is_(None), Responsibility.until >= since),
            )
        )
        if existing is None:
            responsibility = Responsibility(
                staff_member=hire, system=system, kind=ResponsibilityKind.PRIMARY, since=since
            )
            db.session.add(responsibility)
            added.append(responsibility)
    db.session.flush()
    return added


def set_spof_positions_goal(value: int | None) -> int:
    if value is None or isinstance(value, bool) or not 1 <= int(value) <= 1000:
        raise InputError({"goal": "Enter a whole number of positions between 1 and 1000."})
    set_setting(figures.SPOF_POSITIONS_GOAL_KEY, int(value))
    db.session.flush()
    return int(value)
