"""Load what the reminder rules read, as plain rows, and turn it into events.

One query per rule (never one per row); the rules themselves are in
``app.domain.reminders``, the departure impact in ``app.domain.coverage``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from flask import url_for
from sqlalchemy import select

from app import fiscal
from app.countermeasures.figures import slipped_where
from app.coverage.figures import load_facts
from app.domain.coverage import departure_impact
from app.domain.quarters import quarter_of
from app.domain.reminders import (
    Event,
    acceptance_state,
    confidence_passes,
    kr_status_missing,
    leaving_soon,
    review_state,
    slipping_window,
)
from app.extensions import db
from app.models import (
    CandidateStatus,
    Countermeasure,
    CountermeasureStatus,
    KeyResult,
    KeyResultStatus,
    Objective,
    StaffMember,
    Threat,
    ThreatCandidate,
    ThreatFeed,
    ThreatStateChange,
    Treatment,
    User,
)
from app.models.user import Role
from app.threats.as_of import on_register_on, register_ids_on


def _rows(query):
    return db.session.connection().execute(query)


def _open_threats(today: date):
    return Threat.id.in_(register_ids_on(today))


def _users_with_role(role: Role) -> frozenset[int]:
    query = select(User.id).where(User.role == role, User.is_active_account.is_(True))
    return frozenset(r[0] for r in _rows(query))


def review_events(today: date, days: int) -> list[Event]:
    # The next review in force today (a dated state), as the register's overdue list reads it.
    due = ThreatStateChange.next_review_on
    query = (
        select(Threat.id, Threat.title, Threat.owner_id, due)
        .select_from(ThreatStateChange)
        .join(Threat, Threat.id == ThreatStateChange.threat_id)
        .where(
            *on_register_on(today),
            Threat.owner_id.is_not(None),
            due <= today + timedelta(days=days),
        )
        .order_by(due, Threat.id)
    )
    events = []
    for threat_id, title, owner_id, review_on in _rows(query):
        state = review_state(review_on, today, days)
        if state is None:
            continue
        events.append(
            _threat_event(
                "review",
                threat_id,
                title,
                f"review overdue since {review_on.isoformat()}"
                if state == "overdue"
                else f"review due on {review_on.isoformat()}",
                (state, review_on),
                frozenset({owner_id}),
            )
        )
    return events


def _threat_event(
    kind: str,
    threat_id: int,
    title: str,
    detail: str,
    state: tuple[object, ...],
    user_ids: frozenset[int],
) -> Event:
    """An event about one threat (its review, its acceptance), linking to its page."""
    return Event(
        key=f"{kind}:{threat_id}",
        kind=kind,
        title=title,
        detail=detail,
        path=url_for("threats.detail", threat_id=threat_id, _external=True),
        state=state,
        user_ids=user_ids,
    )


def acceptance_events(today: date, days: int) -> list[Event]:
    query = (
        select(
            Threat.id,
            Threat.title,
            Threat.owner_id,
            Threat.acceptance_approver_id,
            Threat.acceptance_expires_on,
        )
        .where(
            _open_threats(today),
            Threat.treatment == Treatment.ACCEPT,
            Threat.acceptance_expires_on <= today + timedelta(days=days),
        )
        .order_by(Threat.acceptance_expires_on, Threat.id)
    )
    events = []
    for threat_id, title, owner_id, approver_id, expires_on in _rows(query):
        state = acceptance_state(expires_on, today, days)
        users = frozenset(u for u in (owner_id, approver_id) if u is not None)
        if state is None or not users:
            continue
        events.append(
            _threat_event(
                "acceptance",
                threat_id,
                title,
                f"acceptance expired on {expires_on.isoformat()}"
                if state == "expired"
                else f"acceptance ends on {expires_on.isoformat()}",
                (state, expires_on),
                users,
            )
        )
    return events


def slipping_events(today: date, days: int) -> list[Event]:
    current = quarter_of(today, fiscal.start_month())
    if not slipping_window(current, today, days):
        return []
    query = (
        select(Countermeasure.id, Countermeasure.title, Countermeasure.owner_id)
        .where(
            slipped_where(current),
            Countermeasure.status != CountermeasureStatus.RETIRED,
            Countermeasure.owner_id.is_not(None),
        )
        .order_by(Countermeasure.title, Countermeasure.id)
    )
    return [
        Event(
            key=f"slipping:{cm_id}",
            kind="slipping",
            title=title,
            detail=f"planned for {current.label}, not deployed; the quarter ends "
            f"{current.last_day.isoformat()}",
            path=url_for("countermeasures.detail", countermeasure_id=cm_id, _external=True),
            state=(current.label,),
            user_ids=frozenset({owner_id}),
        )
        for cm_id, title, owner_id in _rows(query)
    ]


def _team_managers() -> dict[str, set[int]]:
    # A team's managers: manager users whose staff record is in that team.
    query = (
        select(StaffMember.team, User.id)
        .join(User, User.id == StaffMember.user_id)
        .where(User.role == Role.MANAGER, User.is_active_account.is_(True))
    )
    managers: dict[str, set[int]] = defaultdict(set)
    for team, user_id in _rows(query):
        managers[team].add(user_id)
    return managers


def departure_events(today: date, days: int) -> list[Event]:
    query = (
        select(StaffMember.id, StaffMember.name, StaffMember.team, StaffMember.left_on)
        .where(StaffMember.left_on >= today, StaffMember.left_on <= today + timedelta(days=days))
        .order_by(StaffMember.left_on, StaffMember.id)
    )
    leavers = [r for r in _rows(query) if leaving_soon(r.left_on, today, days)]
    if not leavers:
        return []
    systems, staff, responsibilities = load_facts(
        today, max(r.left_on for r in leavers) + timedelta(days=1)
    )
    admins = _users_with_role(Role.ADMIN)
    all_managers = _users_with_role(Role.MANAGER)
    team_managers = _team_managers()
    events = []
    for staff_id, name, team, left_on in leavers:
        # The impact of this departure: the same people, with this one staying on.
        staying = [s._replace(left_on=None) if s.id == staff_id else s for s in staff]
        impact = departure_impact(systems, staying, responsibilities, staff_id, left_on)
        if not impact.has_impact:
            continue
        parts = []
        if impact.new_spof_systems:
            names = ", ".join(s.name for s in impact.new_spof_systems)
            parts.append(f"becomes a SPOF: {names}")
        if impact.new_uncovered_systems:
            names = ", ".join(s.name for s in impact.new_uncovered_systems)
            parts.append(f"left uncovered: {names}")
        managers = team_managers.get(team) or all_managers
        events.append(
            Event(
                key=f"departure:{staff_id}",
                kind="departure",
                title=f"{name} ({team or 'no team'}) leaves on {left_on.isoformat()}",
                detail="; ".join(parts),
                path=url_for("coverage.staff_detail", staff_id=staff_id, _external=True),
                state=(
                    left_on,
                    tuple(sorted(s.id for s in impact.new_spof_systems)),
                    tuple(sorted(s.id for s in impact.new_uncovered_systems)),
                ),
                user_ids=frozenset(managers | admins),
            )
        )
    return events


def kr_status_events(today: date, days: int) -> list[Event]:
    # The last quarter that ended (``days`` ago or more) is the one whose status is due.
    quarter = quarter_of(today - timedelta(days=days), fiscal.start_month()).previous()
    query = (
        select(KeyResult.id, KeyResult.code, KeyResult.statement, KeyResult.objective_id)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(
            Objective.fiscal_year == quarter.fiscal_year,
            ~select(KeyResultStatus.id)
            .where(
                KeyResultStatus.key_result_id == KeyResult.id,
                KeyResultStatus.quarter_start == quarter.first_day,
            )
            .exists(),
        )
        .order_by(KeyResult.objective_id, KeyResult.position, KeyResult.id)
    )
    rows = [r for r in _rows(query) if kr_status_missing(quarter, False, today, days)]
    if not rows:
        return []
    # A key result's owner: whoever wrote its latest status; else the managers.
    authors: dict[int, int] = {}
    author_rows = _rows(
        select(KeyResultStatus.key_result_id, KeyResultStatus.author_id)
        .where(
            KeyResultStatus.key_result_id.in_([r.id for r in rows]),
            KeyResultStatus.author_id.is_not(None),
        )
        .order_by(KeyResultStatus.quarter_start)
    )
    for kr_id, author_id in author_rows:
        authors[kr_id] = author_id
    managers = _users_with_role(Role.MANAGER)
    events = []
    for kr_id, code, statement, objective_id in rows:
        users = frozenset({authors[kr_id]}) if kr_id in authors else managers
        events.append(
            Event(
                key=f"kr_status:{kr_id}:{quarter.first_day.isoformat()}",
                kind="kr_status",
                title=f"{code}: {statement[:120]}" if code else statement[:120],
                detail=f"no status for {quarter.label}, which ended {quarter.last_day.isoformat()}",
                path=url_for("okrs.objective", objective_id=objective_id, _external=True),
                state=(quarter.label,),
                user_ids=users,
            )
        )
    return events


def candidate_events(level: str) -> list[Event]:
    query = (
        select(
            ThreatCandidate.id,
            ThreatCandidate.name,
            ThreatCandidate.stix_type,
            ThreatCandidate.feed_id,
            ThreatCandidate.raw,
            ThreatFeed.name.label("feed_name"),
        )
        .join(ThreatFeed, ThreatFeed.id == ThreatCandidate.feed_id)
        .where(ThreatCandidate.status == CandidateStatus.PENDING)
        .order_by(ThreatCandidate.id)
    )
    security = _users_with_role(Role.SECURITY)
    events = []
    for cid, name, stix_type, feed_id, raw, feed_name in _rows(query):
        confidence = (raw or {}).get("confidence")
        if not isinstance(confidence, int) or isinstance(confidence, bool):
            confidence = None
        if not confidence_passes(confidence, level):
            continue
        shown = "" if confidence is None else f", confidence {confidence}"
        events.append(
            Event(
                key=f"candidate:{cid}",
                kind="candidate",
                title=name,
                detail=f"{stix_type} from {feed_name}{shown}",
                path=url_for("feeds.detail", feed_id=feed_id, _external=True),
                state=(cid,),
                user_ids=security,
            )
        )
    return events


def collect_events(today: date, days: dict[str, int], candidate_level: str) -> list[Event]:
    """Every event worth telling on ``today``, in the digest's order of kinds."""
    return [
        *review_events(today, days["review"]),
        *acceptance_events(today, days["acceptance"]),
        *slipping_events(today, days["slipping"]),
        *departure_events(today, days["departure"]),
        *kr_status_events(today, days["kr_status"]),
        *candidate_events(candidate_level),
    ]
