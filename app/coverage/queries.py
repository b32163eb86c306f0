"""Coverage as of a date in SQL, for lists that filter and sort by it without a query per row.

The same rules as ``app.domain.coverage`` (tested to agree on the demo data): a production
system not retired on the day counts; a staff member counts until their leaving date
(inclusive), or while active when no date is recorded; a responsibility counts from
``since`` to ``until`` inclusive.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import and_, distinct, func, or_, select

from app.extensions import db
from app.models.systems import Responsibility, StaffMember, System


def system_counts_on(d: date):
    return and_(
        System.in_production.is_(True), or_(System.retired_on.is_(None), System.retired_on > d)
    )


def staff_counts_on(d: date):
    return or_(
        and_(StaffMember.left_on.is_(None), StaffMember.active.is_(True)), StaffMember.left_on >= d
    )


def responsibility_counts_on(d: date):
    return and_(
        Responsibility.since <= d,
        or_(Responsibility.until.is_(None), Responsibility.until >= d),
    )


def holders_subquery(d: date):
    """(system_id, holders): distinct present staff responsible for each system on ``d``."""
    return (
        select(
            Responsibility.system_id.label("system_id"),
            func.count(distinct(Responsibility.staff_member_id)).label("holders"),
        )
        .join(StaffMember, StaffMember.id == Responsibility.staff_member_id)
        .where(responsibility_counts_on(d), staff_counts_on(d))
        .group_by(Responsibility.system_id)
        .subquery("holders")
    )


def sole_systems_subquery(d: date):
    """(staff_member_id, sole): production systems on which each person is the only holder."""
    holders = holders_subquery(d)
    spof_ids = (
        select(holders.c.system_id)
        .join(System, System.id == holders.c.system_id)
        .where(holders.c.holders == 1, system_counts_on(d))
    )
    return (
        select(
            Responsibility.staff_member_id.label("staff_member_id"),
            func.count(distinct(Responsibility.system_id)).label("sole"),
        )
        .join(StaffMember, StaffMember.id == Responsibility.staff_member_id)
        .where(
            responsibility_counts_on(d),
            staff_counts_on(d),
            Responsibility.system_id.in_(spof_ids),
        )
        .group_by(Responsibility.staff_member_id)
        .subquery("sole")
    )


def holders_of(system_ids: Iterable[int], d: date) -> dict[int, list[tuple[int, str]]]:
    """Present people responsible for each of these systems on ``d``: one query for a page."""
    ids = list(system_ids)
    result: dict[int, list[tuple[int, str]]] = {sid: [] for sid in ids}
    if not ids:
        return result
    rows = db.session.execute(
        select(Responsibility.system_id, StaffMember.id, StaffMember.name)
        .join(StaffMember, StaffMember.id == Responsibility.staff_member_id)
        .where(Responsibility.system_id.in_(ids), responsibility_counts_on(d), staff_counts_on(d))
        .distinct()
        .order_by(StaffMember.name)
    )
    for system_id, staff_id, name in rows:
        result[system_id].append((staff_id, name))
    return result


def systems_of(staff_ids: Iterable[int], d: date) -> dict[int, list[tuple[int, str]]]:
    """Systems each of these people is responsible for on ``d``: one query for a page."""
    ids = list(staff_ids)
    result: dict[int, list[tuple[int, str]]] = {sid: [] for sid in ids}
    if not ids:
        return result
    rows = db.session.execute(
        select(Responsibility.staff_member_id, System.id, System.name)
        .join(System, System.id == Responsibility.system_id)
        .where(Responsibility.staff_member_id.in_(ids), responsibility_counts_on(d))
        .distinct()
        .order_by(System.name)
    )
    for staff_id, system_id, name in rows:
        result[staff_id].append((system_id, name))
    return result


def state_for(system: System, holders: int, d: date) -> str | None:
    """Coverage state of a system with this many holders on ``d`` (None: not counted)."""
    if not system.in_production or (system.retired_on is not None and system.retired_on <= d):
        return None
    if holders == 0:
        return "uncovered"
    return "spof" if holders == 1 else "covered"
