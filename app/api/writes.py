"""Writing through the API: the areas' own service functions, called as the web forms call
them, so a change made here passes the same rules and leaves the same audit trail.

A create passes the body's values (what it leaves out takes the service's default); an
update merges the body into the record's current values, then hands everything to the
service's update function with the ``version`` the client read.
"""

from __future__ import annotations

from app import fiscal
from app.extensions import db
from app.models import Countermeasure, Position, Responsibility, StaffMember, System
from app.reports.corrections import affected_reports, pending_effective_day


def saved(obj):
    """Commit the service's change; the record is answered as it now stands, with the
    published reports a change dated inside their quarters makes differ (``warnings``)."""
    effective_on = pending_effective_day(db.session)
    db.session.commit()
    obj.published_warnings = affected_reports(effective_on)
    return obj


def merged(current: dict, body: dict) -> dict:
    values = dict(current)
    values.update({key: value for key, value in body.items() if key != "version"})
    return values


def system_values(system: System) -> dict:
    return {
        "name": system.name,
        "description": system.description,
        "team": system.team,
        "criticality": system.criticality,
        "in_production": system.in_production,
        "retired_on": system.retired_on,
    }


def staff_values(person: StaffMember) -> dict:
    return {
        "name": person.name,
        "email": person.email,
        "team": person.team,
        # Not merged: ``active`` only says something when sent ("false": leaving today).
        "active": None,
        "left_on": person.left_on,
        "user_id": person.user_id,
    }


def responsibility_values(responsibility: Responsibility) -> dict:
    return {
        "kind": responsibility.kind,
        "since": responsibility.since,
        "until": responsibility.until,
    }


def position_values(position: Position) -> dict:
    return {
        "title": position.title,
        "team": position.team,
        "system_ids": [system.id for system in position.systems],
        "notes": position.notes,
    }


def countermeasure_values(countermeasure: Countermeasure) -> dict:
    start = countermeasure.target_quarter_start
    return {
        "title": countermeasure.title,
        "description": countermeasure.description,
        "type": countermeasure.type,
        "threat_ids": [threat.id for threat in countermeasure.threats],
        "owner_id": countermeasure.owner_id,
        "target_quarter": fiscal.quarter_starting(start).label if start else None,
        "evidence": countermeasure.evidence,
    }
