"""Helpers: the shipped fixture libraries, threats and countermeasures made directly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.catalogues.libraries import import_library
from app.catalogues.mappings import end_mapping, map_countermeasure, map_threat
from app.extensions import db
from app.models.countermeasures import Countermeasure, CountermeasureStatus
from app.models.threats import StateChangeKind, Threat, ThreatStatus
from app.threats.risk import record_state, rescore_threat

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


@pytest.fixture
def register(attack, make_threat, make_countermeasure):
    """The hand-computed register (dates in the comments decide what counts on Q2_END)."""
    lib = attack.id
    a = make_threat("Attachment phishing", (4, 4))  # residual 16
    map_threat(a.id, lib, "T1566.001", date(2020, 8, 1), None)  # a sub-technique of T1566
    b = make_threat("Link phishing and ransomware", (2, 3))  # residual 6
    map_threat(b.id, lib, "T1566", date(2020, 9, 1), None)
    map_threat(b.id, lib, "T1486", date(2020, 10, 1), None)
    c = make_threat("Ransomware via supplier", (5, 5))  # residual 25
    map_threat(c.id, lib, "T1486", date(2021, 1, 5), None)  # mapped after Q2: not counted
    d = make_threat("Password spraying", (3, 3))
    map_threat(d.id, lib, "T1110", date(2020, 8, 1), None)
    record_state(d, date(2020, 11, 15), StateChangeKind.STATUS, None, status=ThreatStatus.CLOSED)
    e = make_threat("Web app exploit", (3, 4))
    end_mapping(map_threat(e.id, lib, "T1190", date(2020, 8, 1), None), date(2020, 12, 1))
    f = make_threat("Backup encryption", (4, 5))  # residual 20 until re-scored in January
    map_threat(f.id, lib, "T1486", date(2020, 8, 1), None)
    rescore_threat(
        f, inherent=(5, 5), residual=(3, 3), changed_on=date(2021, 1, 10), author_id=None
    )

    mail = make_countermeasure("Mail attachment sandbox", date(2020, 11, 1))
    map_countermeasure(mail.id, lib, "T1566", date(2020, 10, 1), None)
    backups = make_countermeasure("Offline backups", date(2021, 1, 5))
    map_countermeasure(backups.id, lib, "T1486", date(2020, 12, 1), None)
    lockout = make_countermeasure("Account lockout", date(2020, 8, 1), date(2020, 12, 15))
    map_countermeasure(lockout.id, lib, "T1110", date(2020, 8, 1), None)
    planned = make_countermeasure("Script allow-listing")
    map_countermeasure(planned.id, lib, "T1059", date(2020, 8, 1), None)
    db.session.commit()
    return lib


@pytest.fixture
def framework(annex_a, make_countermeasure):
    lib = annex_a.id
    sandbox = make_countermeasure("Mail attachment sandbox", date(2020, 11, 1))
    map_countermeasure(sandbox.id, lib, "A.8.7", date(2020, 10, 1), None)
    lockout = make_countermeasure("Account lockout", date(2020, 8, 1), date(2020, 12, 15))
    map_countermeasure(lockout.id, lib, "A.5.15", date(2020, 8, 1), None)
    map_countermeasure(lockout.id, lib, "A.5.17", date(2020, 8, 1), None)
    backups = make_countermeasure("Offline backups", date(2021, 1, 5))
    map_countermeasure(backups.id, lib, "A.8.13", date(2020, 12, 1), None)
    db.session.commit()
    return lib
