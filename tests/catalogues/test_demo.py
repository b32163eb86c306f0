"""The demo's catalogues tell a story on first run."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.catalogues.figures import attack_coverage_on, framework_coverage_on
from app.extensions import db
from app.models.catalogues import Library, LibraryKind
from app.models.user import Role


def _library(kind: LibraryKind, name: str | None = None) -> Library:
    query = select(Library).where(Library.kind == kind)
    if name:
        query = query.where(Library.name == name)
    return db.session.scalars(query).one()


def test_the_demo_maps_threats_and_countermeasures_to_the_fixtures(demo, client_as):
    attack = _library(LibraryKind.ATTACK)
    q2 = attack_coverage_on(attack.id, date(2020, 12, 31))
    cells = {c.ref: c for column in q2.columns for c in column.cells}
    # Ransomware is exposed (the off-site backups are still in progress); the MFA roll-out
    # mitigates the account techniques; the retired IDS leaves T1190 exposed at the Q2 end.
    assert cells["T1486"].state == "exposed"
    assert cells["T1078"].state == "covered" and cells["T1110"].state == "covered"
    assert cells["T1190"].state == "exposed"
    q1 = attack_coverage_on(attack.id, date(2020, 9, 30))
    assert {c.ref: c.state for col in q1.columns for c in col.cells}["T1190"] == "covered"
    assert q2.exposed >= 3 and q2.covered >= 3
    annex = _library(LibraryKind.FRAMEWORK, "ISO/IEC 27001:2022 Annex A")
    assert framework_coverage_on(annex.id, date(2020, 9, 30)).percent == 5
    assert framework_coverage_on(annex.id, date(2020, 12, 31)).percent == 24

    viewer = client_as(Role.VIEWER)
    matrix = viewer.get(f"/catalogues/{attack.id}/matrix?quarter=FY20-21 Q2")
    assert matrix.status_code == 200 and 'data-ref="T1486" data-state="exposed"' in matrix.text
    library = viewer.get(f"/catalogues/{attack.id}").text
    assert "Revoked</strong>: T1193" in library
    framework = viewer.get(f"/catalogues/{annex.id}/coverage?year=FY20-21").text
    assert 'data-quarter="FY20-21 Q2">24%' in framework
