"""Small builders for register rows used by the API, import and feed tests."""

from __future__ import annotations

from datetime import date

from app import fiscal
from app.countermeasures.checks import set_target
from app.extensions import db
from app.models import (
    Countermeasure,
    CountermeasureStatus,
    Responsibility,
    StaffMember,
    System,
    Tag,
    Threat,
)
from app.threats.risk import rescore_threat
from app.threats.search import reindex


def threat(title="Phishing", *, on=date(2020, 8, 1), inherent=(4, 4), residual=(3, 3), **kw):
    t = Threat(title=title, identified_on=on, **kw)
    db.session.add(t)
    rescore_threat(t, inherent=inherent, residual=residual, changed_on=on, author_id=None)
    reindex(t)  # the words the list page and the API search in
    return t


def system(name="Billing", **kw):
    s = System(name=name, **kw)
    db.session.add(s)
    db.session.flush()
    return s


def staff(name="Ada", **kw):
    p = StaffMember(name=name, **kw)
    db.session.add(p)
    db.session.flush()
    return p


def responsibility(person, sys, since=date(2020, 1, 1), until=None):
    r = Responsibility(staff_member=person, system=sys, since=since, until=until)
    db.session.add(r)
    db.session.flush()
    return r


def countermeasure(title="MFA", deployed_on=None, threats=(), **kw):
    target = kw.pop("target_quarter_start", None)
    c = Countermeasure(
        title=title,
        deployed_on=deployed_on,
        status=CountermeasureStatus.DEPLOYED if deployed_on else CountermeasureStatus.PLANNED,
        threats=list(threats),
        **kw,
    )
    if target is not None:
        # The target is a dated fact, in force from the day it was planned.
        set_target(c, target, kw.get("planned_on") or fiscal.today(), None)
    db.session.add(c)
    db.session.flush()
    return c


def tag(name):
    t = Tag(name=name)
    db.session.add(t)
    return t
