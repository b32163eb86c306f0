"""Writing through the API: the areas' own service functions, called as the web forms call
them, so a change made here passes the same rules and leaves the same audit trail.

A create passes the body's values (what it leaves out takes the service's default); an
update merges the body into the record's current values, then hands everything to the
service's update function with the ``version`` the client read.
"""

from __future__ import annotations

from app.extensions import db
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


def current(record, *names: str, **derived) -> dict:
    """The record's current values an update merges the body into: the attributes
    ``names``, then ``derived`` (what the record holds differently: ids, a label)."""
    return {name: getattr(record, name) for name in names} | derived
