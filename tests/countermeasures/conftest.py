"""Helpers: threats made directly with the models and scored through app.threats.risk."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models.threats import Threat, ThreatStatus
from app.threats.risk import rescore_threat

TODAY = "2021-01-15"


@pytest.fixture(autouse=True)
def pinned_today(app, monkeypatch):
    """The tests run as of 2021-01-15, inside FY20-21 Q3, like the demo."""
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", TODAY)


@pytest.fixture
def make_threat():
    def make(
        title: str,
        residual: tuple[int, int],
        *,
        inherent: tuple[int, int] = (5, 5),
        identified_on: date = date(2020, 7, 1),
        scored_on: date | None = None,
        status: ThreatStatus = ThreatStatus.ASSESSED,
    ) -> Threat:
        threat = Threat(title=title, identified_on=identified_on, status=status)
        db.session.add(threat)
        rescore_threat(
            threat,
            inherent=inherent,
            residual=residual,
            changed_on=scored_on or identified_on,
            author_id=None,
        )
        db.session.flush()
        return threat

    return make
