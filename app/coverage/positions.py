"""SPOF positions: opened to remove a single point of failure, moved along the hiring
pipeline, and filled by a hire who takes over the systems."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select

from app.bulk import insert_links, insert_new, insert_rows
from app.coverage import figures
from app.coverage.checks import NOTES_MAX, added, check_version, clean_text, coverage_today
from app.coverage.inputs import OPENING, POSITION_EDIT, first_refusal, read_position
from app.coverage.staff import create_staff_member
from app.extensions import db
from app.models.setting import set_setting
from app.models.systems import (
    Position,
    PositionStatus,
    PositionStatusChange,
    Responsibility,
    ResponsibilityKind,
    StaffMember,
    System,
    position_systems,
)
from app.validation import InputError, check_date_range


def _chosen_systems(system_ids: list[int]) -> list[System]:
    """The systems a position covers, by name; InputError when one no longer exists."""
    found = (
        db.session.scalars(select(System).where(System.id.in_(system_ids))).all()
        if system_ids
        else []
    )
    if len(found) != len(set(system_ids)):
        raise InputError({"system_ids": "One of the chosen systems no longer exists."})
    return sorted(found, key=lambda s: s.name.casefold())


def create_position(
    *,
    title: str,
    opened_on: date | None,
    user_id: int | None = None,
    **values: Any,
) -> Position:
    """Open a position (``PositionInput``'s fields: team, system_ids, notes, status), its
    first step dated ``opened_on``; the first refusal stops it, the title's first."""
    clean, refused = read_position({"title": title, "opened_on": opened_on, **values})
    first_refusal(refused, "title")
    if clean["opened_on"] is None and "opened_on" not in refused:
        raise InputError({"opened_on": "Enter the date the position was opened."})
    first_refusal(refused, "opened_on", "status")
    if clean["status"] not in OPENING:
        raise InputError({"status": "A new position starts planned, in hiring or in final stages."})
    first_refusal(refused, "team", "notes", "system_ids")
    systems = _chosen_systems(clean.pop("system_ids"))
    position = Position(**clean, systems=systems)
    position.status_changes.append(
        PositionStatusChange(
            status=position.status, changed_on=position.opened_on, user_id=user_id, note="Opened"
        )
    )
    return added(position)


POSITION_KEYS = ("title", "team", "opened_on", "notes", "status")


def create_positions(values: list[dict], user_id: int | None, audited: bool = True) -> list[int]:
    """Add many positions (their ``POSITION_KEYS``, ``system_ids`` and the dated steps so
    far in ``history``: (status, day, note), by default opened in their status) in bulk,
    with an "import" audit row each unless not ``audited`` (the synthetic data)."""
    ids = insert_new(Position, [{k: v[k] for k in POSITION_KEYS} for v in values], "title", audited)
    insert_rows(
        PositionStatusChange,
        [
            {
                "position_id": position_id,
                "status": status,
                "changed_on": on,
                "note": note,
                "user_id": user_id,
            }  # fmt: skip
            for position_id, v in zip(ids, values, strict=True)
            for status, on, note in v.get("history") or [(v["status"], v["opened_on"], "Opened")]
        ],
    )
    insert_links(
        position_systems, "position_id", ids, "system_id", [v["system_ids"] for v in values]
    )
    return ids


def update_position(position: Position, *, version: int | None, **values: Any) -> Position:
    """Change a position's title, team, systems and notes (``POSITION_EDIT``); the first
    refusal stops it, the title's first."""
    check_version(position, version)
    clean, refused = read_position(values, POSITION_EDIT)
    first_refusal(refused, "title", "team", "system_ids", "notes")
    position.title, position.team, position.notes = clean["title"], clean["team"], clean["notes"]
    position.systems = _chosen_systems(clean["system_ids"])
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
    check_version(position, version)
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
    note = clean_text(note, "a note", "note", NOTES_MAX, required=False)
    change = PositionStatusChange(status=status, changed_on=changed_on, user_id=user_id, note=note)
    position.status_changes.append(change)
    position.status = status
    db.session.flush()
    if hire is not None and add_responsibilities:
        hand_over_systems(position, hire, changed_on)
    return change


def _check_status_change(
    position: Position,
    status: PositionStatus,
    changed_on: date | None,
    confirm_backwards: bool,
) -> date:
    """The change's date, once it is given, not in the future, not before the last change;
    a step back only when confirmed."""
    if changed_on is None:
        raise InputError({"changed_on": "Enter the date of the change."})
    check_date_range("changed_on", changed_on)
    today = coverage_today()
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
                staff_member=hire,
                system=system,
                kind=ResponsibilityKind.PRIMARY,
                since=since,
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
