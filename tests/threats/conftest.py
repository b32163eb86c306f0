"""Helpers for the threat register tests: a pinned today and a quick way to log threats."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models.systems import System
from app.models.threats import ThreatCategory
from app.models.user import Role
from app.threats import service

TODAY = date(2021, 1, 15)


@pytest.fixture(autouse=True)
def pinned_today(app):
    previous = app.config.get("FRONTLINE_TODAY")
    app.config["FRONTLINE_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config["FRONTLINE_TODAY"] = previous


@pytest.fixture
def register(users):
    """Categories and systems to link, and ``register.threat(**values)`` to log one."""

    class Register:
        def __init__(self):
            self.categories = {}
            for name in ("DDoS", "Insider", "Data-center loss"):
                category = ThreatCategory(name=name, active=True)
                db.session.add(category)
                self.categories[name] = category
            self.systems = {}
            for name in ("Edge caching (ATS/Varnish)", "Core MariaDB databases", "DNS and GeoDNS"):
                system = System(name=name, in_production=True)
                db.session.add(system)
                self.systems[name] = system
            db.session.commit()
            self.users = users

        def values(self, **overrides) -> dict:
            values = {
                "title": "DDoS on edge caching",
                "description": "Floods against the caches.",
                "category_id": self.categories["DDoS"].id,
                "owner_id": users[Role.SECURITY].id,
                "identified_on": date(2020, 7, 15),
                "inherent_likelihood": 4,
                "inherent_impact": 4,
                "residual_likelihood": 3,
                "residual_impact": 3,
                "system_ids": [self.systems["Edge caching (ATS/Varnish)"].id],
                "tags": ["edge", "availability"],
            }
            values.update(overrides)
            return values

        def threat(self, **overrides):
            threat = service.create_threat(
                author_id=users[Role.SECURITY].id, **self.values(**overrides)
            )
            db.session.commit()
            return threat

    return Register()
