from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models.systems import Responsibility, ResponsibilityKind, StaffMember, System

TODAY = date(2021, 1, 15)


@pytest.fixture(autouse=True)
def pinned_today(app, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", TODAY.isoformat())


@pytest.fixture
def make():
    """Small factory: ``make.system("DNS")``, ``make.person("Ana")``, ``make.resp(p, s)``."""

    class Make:
        @staticmethod
        def system(name, **kw):
            system = System(name=name, team=kw.pop("team", "SRE"), **kw)
            db.session.add(system)
            db.session.flush()
            return system

        @staticmethod
        def person(name, **kw):
            person = StaffMember(name=name, team=kw.pop("team", "SRE"), **kw)
            db.session.add(person)
            db.session.flush()
            return person

        @staticmethod
        def resp(person, system, since=date(2019, 1, 1), until=None, kind="PRIMARY"):
            r = Responsibility(
                staff_member=person,
                system=system,
                since=since,
                until=until,
                kind=ResponsibilityKind[kind],
            )
            db.session.add(r)
            db.session.flush()
            return r

    return Make()


def count(model) -> int:
    from sqlalchemy import func, select

    return db.session.scalar(select(func.count()).select_from(model))
