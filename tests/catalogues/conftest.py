"""Helpers: the shipped fixture libraries, threats and countermeasures made directly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.catalogues.service import import_library
from app.extensions import db
from app.models.countermeasures import Countermeasure, CountermeasureStatus
from app.models.threats import Threat, ThreatStatus
from app.risk import rescore_threat

FIXTURES = Path(__file__).resolve().parents[2] / "app" / "seed" / "catalogues"
TODAY = "2021-01-15"


@pytest.fixture(autouse=True)
def pinned_today(app, monkeypatch):
    """As of 2021-01-15, inside FY20-21 Q3, like the demo."""
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", TODAY)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def import_fixture():
    def load(file_name: str, **kwargs):
        kwargs.setdefault("on", date(2020, 7, 1))
        result = import_library(fixture_bytes(file_name), file_name, **kwargs)
        db.session.commit()
        return result

    return load


@pytest.fixture
def attack(import_fixture):
    return import_fixture("enterprise-attack-v1.json").library


@pytest.fixture
def annex_a(import_fixture):
    return import_fixture(
        "iso27001-2022-annex-a.csv", name="ISO/IEC 27001:2022 Annex A", version="2022"
    ).library


@pytest.fixture
def make_threat():
    def make(title: str, residual: tuple[int, int], *, identified_on=date(2020, 7, 1)) -> Threat:
        threat = Threat(title=title, identified_on=identified_on, status=ThreatStatus.ASSESSED)
        db.session.add(threat)
        rescore_threat(
            threat, inherent=(5, 5), residual=residual, changed_on=identified_on, author_id=None
        )
        db.session.flush()
        return threat

    return make


@pytest.fixture
def make_countermeasure():
    def make(title: str, deployed_on: date | None = None, retired_on: date | None = None):
        status = CountermeasureStatus.PLANNED
        if deployed_on:
            status = CountermeasureStatus.RETIRED if retired_on else CountermeasureStatus.DEPLOYED
        cm = Countermeasure(
            title=title,
            status=status,
            planned_on=date(2020, 7, 1),
            deployed_on=deployed_on,
            retired_on=retired_on,
        )
        db.session.add(cm)
        db.session.flush()
        return cm

    return make
