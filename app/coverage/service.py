"""Business rules for systems, staff, responsibilities and SPOF positions.

Plain values in, model objects out; :class:`InputError` for anything refused (nothing is
written: the caller rolls back), :class:`ConflictError` for a stale version. No Flask
request here, so the API can call the same functions.
"""

from __future__ import annotations

import enum
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
    SystemCriticalityChange,
    SystemProductionChange,
)
from app.models.threats import Threat, ThreatStatus
from app.models.user import User
from app.validation import (
    ConfirmationRequiredError,
    ConflictError,
    InputError,
    check_date_range,
)

NAME_MAX = 160
TEAM_MAX = 120
DESCRIPTION_MAX = 20_000
EMAIL_MAX = 254
NOTES_MAX = 5_000


def _impact_to_confirm(impact: DepartureImpact) -> ConfirmationRequiredError:
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


def _text(values: dict, field: str, label: str, max_length: int, errors: dict, required=True):
    try:
        return _clean_text(values.get(field), label, field, max_length, required)
    except InputError as refused:
        errors.update(refused.errors)
        return None


def _choice(cls: type[enum.Enum], value, default, field: str, errors: dict):
    """An enum member from a member, its name or its value; ``default`` when empty."""
    if value is None or value == "":
        return default
    if isinstance(value, cls):
        return value
    text = str(value).strip()
    for member in cls:
        if text.lower() in (member.name.lower(), str(member.value).lower()):
            return member
    errors[field] = f"Choose one of: {', '.join(str(m.value) for m in cls)}."
    return None


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
        self.today = _today()

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


def _check_system_name(
    name: str | None, exclude_id: int | None, refs: References | None = None
) -> str:
    name = _clean_text(name, "a name", "name", NAME_MAX)
    clash = (refs or References()).system_named(name, exclude_id)
    if clash is not None:
        if clash.line:
            raise InputError({"name": f'A system named "{name}" is also on line {clash.line}.'})
        raise InputError({"name": f'A system named "{name}" already exists.'})
    return name


def check_new_system(values: dict, refs: References | None = None) -> dict:
    """Every rule ``create_system`` applies, without writing: the clean values or
    InputError (a message per field). The CSV import calls it for each row."""
    refs = refs or References()
    errors: dict[str, str] = {}
    clean: dict = {}
    try:
        clean["name"] = _check_system_name(values.get("name"), None, refs)
    except InputError as refused:
        errors.update(refused.errors)
    clean["description"] = _text(
        values, "description", "a description", DESCRIPTION_MAX, errors, required=False
    )
    clean["team"] = _text(values, "team", "a team", TEAM_MAX, errors, required=False)
    clean["criticality"] = _choice(
        Criticality, values.get("criticality"), Criticality.MEDIUM, "criticality", errors
    )
    in_production = values.get("in_production")
    clean["in_production"] = True if in_production is None else bool(in_production)
    clean["retired_on"] = values.get("retired_on")
    try:
        check_date_range("retired_on", clean["retired_on"])
    except InputError as refused:
        errors.update(refused.errors)
    if errors:
        raise InputError(errors)
    return clean


def create_system(
    *,
    name: str,
    description: str = "",
    team: str = "",
    criticality: Criticality = Criticality.MEDIUM,
    in_production: bool = True,
    retired_on: date | None = None,
) -> System:
    clean = check_new_system(
        {
            "name": name,
            "description": description,
            "team": team,
            "criticality": criticality,
            "in_production": in_production,
            "retired_on": retired_on,
        }
    )
    system = System(**clean)
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
    production_changed_on: date | None = None,
    criticality_changed_on: date | None = None,
    user_id: int | None = None,
) -> System:
    """A change of the production flag is dated ``production_changed_on`` (default today;
    not in the future, not before the system's last production change): coverage as of an
    earlier day still sees the flag it had then. A change of criticality likewise
    (``criticality_changed_on``): a past quarter's report lists the criticality of then."""
    _check_version(system, version)
    system.name = _check_system_name(name, system.id)
    system.description = _clean_text(
        description, "a description", "description", DESCRIPTION_MAX, required=False
    )
    system.team = _clean_text(team, "a team", "team", TEAM_MAX, required=False)
    if criticality != system.criticality:
        _record_criticality_change(system, criticality, criticality_changed_on, user_id)
    check_date_range("retired_on", retired_on)
    if bool(in_production) != system.in_production:
        _record_production_change(system, bool(in_production), production_changed_on, user_id)
    system.retired_on = retired_on
    db.session.flush()
    return system


def _record_production_change(
    system: System, in_production: bool, changed_on: date | None, user_id: int | None
) -> None:
    today = _today()
    changed_on = changed_on or today
    check_date_range("production_changed_on", changed_on)
    if changed_on > today:
        raise InputError(
            {
                "production_changed_on": "The date of the change cannot be in the future "
                f"(today is {today.isoformat()})."
            }
        )
    last = max((c.changed_on for c in system.production_changes), default=None)
    if last is not None and changed_on < last:
        raise InputError(
            {
                "production_changed_on": f"Its production flag last changed on "
                f"{last.isoformat()}; a new change cannot be dated before it."
            }
        )
    system.production_changes.append(
        SystemProductionChange(in_production=in_production, changed_on=changed_on, user_id=user_id)
    )
    system.in_production = in_production


def _record_criticality_change(
    system: System, criticality: Criticality, changed_on: date | None, user_id: int | None
) -> None:
    today = _today()
    changed_on = changed_on or today
    check_date_range("criticality_changed_on", changed_on)
    if changed_on > today:
        raise InputError(
            {
                "criticality_changed_on": "The date of the change cannot be in the future "
                f"(today is {today.isoformat()})."
            }
        )
    last = max((c.changed_on for c in system.criticality_changes), default=None)
    if last is not None and changed_on < last:
        raise InputError(
            {
                "criticality_changed_on": f"Its criticality last changed on "
                f"{last.isoformat()}; a new change cannot be dated before it."
            }
        )
    system.criticality_changes.append(
        SystemCriticalityChange(
            previous=system.criticality,
            criticality=criticality,
            changed_on=changed_on,
            user_id=user_id,
        )
    )
    system.criticality = criticality


# Staff members.


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


def _check_leaving_date(
    active: bool | None, left_on: date | None, today: date, errors: dict
) -> date | None:
    try:
        check_date_range("left_on", left_on)
    except InputError as refused:
        errors.update(refused.errors)
        return None
    # A leaving date wins over a ticked box: to record someone as back, clear the date.
    return leaving_date(active, left_on, today)


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
    errors: dict[str, str] = {}
    clean: dict = {
        "name": _text(values, "name", "a name", NAME_MAX, errors),
        "email": _text(values, "email", "an email", EMAIL_MAX, errors, required=False) or None,
        "team": _text(values, "team", "a team", TEAM_MAX, errors, required=False),
    }
    active = None if values.get("active") is None else bool(values["active"])
    clean["left_on"] = _check_leaving_date(active, values.get("left_on"), refs.today, errors)
    try:
        clean["user_id"] = _check_user_link(values.get("user_id"), None, refs)
    except InputError as refused:
        errors.update(refused.errors)
    if errors:
        raise InputError(errors)
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
    clean = check_new_staff_member(
        {
            "name": name,
            "email": email,
            "team": team,
            "active": active,
            "left_on": left_on,
            "user_id": user_id,
        }
    )
    person = StaffMember(**clean)
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
    active: bool | None,
    left_on: date | None,
    user_id: int | None,
    confirm_impact: bool = False,
) -> StaffMember:
    """Unticking Active (``active=False`` without a date) records leaving today, through the
    same departure-impact check and confirmation as a leaving date."""
    _check_version(person, version)
    name = _clean_text(name, "a name", "name", NAME_MAX)
    team = _clean_text(team, "a team", "team", TEAM_MAX, required=False)
    user_id = _check_user_link(user_id, person.id)
    errors: dict[str, str] = {}
    left_on = _check_leaving_date(active, left_on, _today(), errors)
    if errors:
        raise InputError(errors)
    _check_not_before_responsibilities(person, left_on)
    # Only a new or earlier leaving date can take coverage away.
    if left_on is not None and (person.left_on is None or left_on < person.left_on):
        impact = departure_preview(person, left_on)
        if impact.has_impact and not confirm_impact:
            raise _impact_to_confirm(impact)
    person.name = name
    person.email = _clean_text(email, "an email", "email", EMAIL_MAX, required=False) or None
    person.team = team
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


def _check_dates(since: date | None, until: date | None) -> date:
    """The start date, once it is there and the period is well ordered."""
    if since is None:
        raise InputError({"since": "Enter the date the responsibility starts."})
    check_date_range("since", since)
    check_date_range("until", until)
    if until is not None and until < since:
        raise InputError(
            {"until": f"The end date must be on or after the start date ({since.isoformat()})."}
        )
    return since


def _check_overlap(
    staff_id: int,
    system_id: int,
    kind: ResponsibilityKind,
    since: date,
    until: date | None,
    exclude_id: int | None,
    refs: References | None = None,
) -> None:
    refs = refs or References()
    for clash in refs.responsibilities(staff_id, system_id, kind, exclude_id):
        if periods_overlap(since, until, clash):
            end = clash.until.isoformat() if clash.until else "today, open-ended"
            raise InputError(
                {
                    "since": f"This person already has a {kind.value} responsibility for this "
                    f"system from {clash.since} to {end}{clash.where}; "
                    "change that one instead."
                }
            )


def check_new_responsibility(values: dict, refs: References | None = None) -> dict:
    """Every rule ``add_responsibility`` applies (the overlap check included), without
    writing: the clean values or InputError. The CSV import calls it for each row."""
    refs = refs or References()
    errors: dict[str, str] = {}
    staff_id, system_id = values.get("staff_member_id"), values.get("system_id")
    if not staff_id or not refs.staff_exists(staff_id):
        errors["staff_member_id"] = "Choose a staff member."
    if not system_id or not refs.system_exists(system_id):
        errors["system_id"] = "Choose a system."
    kind = _choice(
        ResponsibilityKind, values.get("kind"), ResponsibilityKind.PRIMARY, "kind", errors
    )
    since, until = values.get("since"), values.get("until")
    try:
        start = _check_dates(since, until)
        if not errors and staff_id and system_id:  # both checked above
            _check_overlap(staff_id, system_id, kind, start, until, None, refs)
    except InputError as refused:
        errors.update(refused.errors)
    if errors:
        raise InputError(errors)
    return {
        "staff_member_id": staff_id,
        "system_id": system_id,
        "kind": kind,
        "since": since,
        "until": until,
    }


def add_responsibility(
    *,
    staff_member_id: int | None,
    system_id: int | None,
    kind: ResponsibilityKind = ResponsibilityKind.PRIMARY,
    since: date | None,
    until: date | None = None,
) -> Responsibility:
    clean = check_new_responsibility(
        {
            "staff_member_id": staff_member_id,
            "system_id": system_id,
            "kind": kind,
            "since": since,
            "until": until,
        }
    )
    responsibility = Responsibility(
        staff_member=db.session.get(StaffMember, clean["staff_member_id"]),
        system=db.session.get(System, clean["system_id"]),
        kind=clean["kind"],
        since=clean["since"],
        until=clean["until"],
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
    start = _check_dates(since, until)
    _check_overlap(
        responsibility.staff_member_id,
        responsibility.system_id,
        kind,
        start,
        until,
        responsibility.id,
    )
    if until is not None and (responsibility.until is None or until < responsibility.until):
        impact = responsibility_end_preview(responsibility, until)
        if impact.has_impact and not confirm_impact:
            raise _impact_to_confirm(impact)
    responsibility.kind = kind
    responsibility.since = start
    responsibility.until = until
    db.session.flush()
    return responsibility


# Positions.


def remove_responsibility(responsibility: Responsibility, version: int | None) -> None:
    """Delete a responsibility that was never held (an administrator's correction; the audit
    log keeps its values). One that ended is ended with a date instead."""
    _check_version(responsibility, version)
    db.session.delete(responsibility)
    db.session.flush()


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
        notes=_clean_text(notes, "notes", "notes", NOTES_MAX, required=False),
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
    title: str | None,
    team: str | None,
    system_ids: list[int],
    notes: str | None,
) -> Position:
    _check_version(position, version)
    position.title = _clean_text(title, "a title", "title", 200)
    position.team = _clean_text(team, "a team", "team", TEAM_MAX, required=False)
    position.systems = _systems_by_ids(system_ids)
    position.notes = _clean_text(notes, "notes", "notes", NOTES_MAX, required=False)
    db.session.flush()
    return position


PIPELINE_ORDER = (
    PositionStatus.PLANNED,
    PositionStatus.ACTIVE_HIRING,
    PositionStatus.FINAL_STAGES,
    PositionStatus.FILLED,
)


def next_position_status(status: PositionStatus) -> PositionStatus | None:
    """The next step of the pipeline, the status a form offers first (None after filled
    or cancelled: nothing follows, and a form must not offer a step back by default)."""
    if status in PIPELINE_ORDER[:-1]:
        return PIPELINE_ORDER[PIPELINE_ORDER.index(status) + 1]
    return None


def moves_backwards(current: PositionStatus, new: PositionStatus) -> bool:
    """Back down the pipeline (a filled position back to planned), or reopening a
    cancelled one: both undo what the figures counted, so they need a confirmation."""
    if current == PositionStatus.CANCELLED:
        return new != PositionStatus.CANCELLED
    if new == PositionStatus.CANCELLED:
        return False
    return PIPELINE_ORDER.index(new) < PIPELINE_ORDER.index(current)


def change_position_status(
    position: Position,
    *,
    version: int | None,
    status: PositionStatus,
    changed_on: date | None,
    user_id: int | None = None,
    note: str | None = "",
    hire_id: int | None = None,
    new_hire_name: str | None = "",
    add_responsibilities: bool = True,
    confirm_backwards: bool = False,
) -> PositionStatusChange:
    """Record a dated status change; filling needs a hire and may hand them the systems.

    A step back (a filled position back to planned) needs ``confirm_backwards``; the date
    is not in the future and not before the position's last change."""
    _check_version(position, version)
    changed_on = _check_status_change(position, status, changed_on, confirm_backwards)
    hire = None
    if status == PositionStatus.FILLED:
        hire = _the_hire(position, hire_id, new_hire_name)
        position.hire = hire
        position.filled_on = changed_on
    elif position.status == PositionStatus.FILLED:
        # Reopened: the earlier hire stays in the history, not on the position.
        position.hire = None
        position.filled_on = None
    note = _clean_text(note, "a note", "note", NOTES_MAX, required=False)
    change = PositionStatusChange(status=status, changed_on=changed_on, user_id=user_id, note=note)
    position.status_changes.append(change)
    position.status = status
    db.session.flush()
    if hire is not None and add_responsibilities:
        hand_over_systems(position, hire, changed_on)
    return change


def _check_status_change(
    position: Position, status: PositionStatus, changed_on: date | None, confirm_backwards: bool
) -> date:
    """The change's date, once it is given, not in the future, not before the last change;
    a step back only when confirmed."""
    if changed_on is None:
        raise InputError({"changed_on": "Enter the date of the change."})
    check_date_range("changed_on", changed_on)
    today = _today()
    if changed_on > today:
        raise InputError(
            {
                "changed_on": "The date of the change cannot be in the future "
                f"(today is {today.isoformat()})."
            }
        )
    if status == position.status:
        raise InputError({"status": f"The position is already {status.label.lower()}."})
    if moves_backwards(position.status, status) and not confirm_backwards:
        raise InputError(
            {
                "confirm_backwards": f"This moves the position back from "
                f"{position.status.label.lower()} to {status.label.lower()}"
                + (
                    f" (the hire, {position.hire.name}, stays in its history)"
                    if position.status == PositionStatus.FILLED and position.hire
                    else ""
                )
                + ": the hiring figures from that day count it as "
                f"{status.label.lower()}. Tick the confirmation box to record it."
            }
        )
    latest = max((c.changed_on for c in position.status_changes), default=position.opened_on)
    if changed_on < latest:
        raise InputError(
            {
                "changed_on": "The history already has a change on "
                f"{latest.isoformat()}; a new change cannot be dated before it."
            }
        )
    return changed_on


def _the_hire(position: Position, hire_id: int | None, new_hire_name: str | None) -> StaffMember:
    """Who filled the position: an existing staff member, or a new one by name."""
    new_hire_name = (new_hire_name or "").strip()
    if hire_id and new_hire_name:
        raise InputError(
            {"hire_id": "Choose an existing staff member or name a new one, not both."}
        )
    if hire_id:
        hire = db.session.get(StaffMember, hire_id)
        if hire is None:
            raise InputError({"hire_id": "That staff member does not exist."})
        return hire
    if new_hire_name:
        return create_staff_member(name=new_hire_name, team=position.team)
    raise InputError(
        {
            "hire_id": "A filled position needs its hire: choose the staff member hired "
            "or enter the new person's name."
        }
    )


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
