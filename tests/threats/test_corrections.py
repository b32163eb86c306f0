"""Deleting a wrong fact that past figures count: administrators only, after a page naming
the published reports it makes differ, audited with the old values and the reason."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Objective
from app.models.audit import AuditEntry
from app.models.reports import ReportPublication
from app.models.systems import Responsibility, ResponsibilityKind, StaffMember
from app.models.threats import Threat, ThreatScoreChange, ThreatStateChange, ThreatStatus
from app.models.user import Role
from app.threats import figures, service
from app.threats.risk import rescore_threat

CONFIRMED = {"reason": "Entered on the wrong threat", "confirm": "y"}


@pytest.fixture
def published(users):
    """FY20-21 Q1 published (it ends 2020-09-30)."""
    objective = Objective(title="Front Line Defenses", fiscal_year=2020)
    db.session.add(objective)
    db.session.flush()
    db.session.add(
        ReportPublication(
            objective_id=objective.id,
            quarter_start=date(2020, 7, 1),
            generated_on=date(2020, 10, 6),
            published_at=datetime(2020, 10, 6, 9, tzinfo=UTC),
            pdf=b"%PDF",
            figures={},
        )
    )
    db.session.commit()


@pytest.fixture
def rescored(register):
    """Identified 2020-07-15 at 4×4 / 3×3, wrongly re-scored 5×5 / 5×5 on 2020-09-01."""
    threat = register.threat()
    rescore_threat(
        threat, inherent=(5, 5), residual=(5, 5), changed_on=date(2020, 9, 1), author_id=None
    )
    db.session.commit()
    return threat


def _deleted(entity_type: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity_type == entity_type, AuditEntry.action == "delete"
            )
        )
    )


def test_only_administrators_reach_the_correction_pages(client_as, rescored):
    wrong = rescored.score_changes[-1]
    url = f"/threats/{rescored.id}/assessments/{wrong.id}/delete"
    for role in (Role.SECURITY, Role.MANAGER, Role.VIEWER):
        client = client_as(role)
        assert client.get(url).status_code == 403
        assert client.post(url, data=CONFIRMED).status_code == 403
    assert len(rescored.score_changes) == 2


def test_the_page_names_the_published_reports_and_deleting_needs_a_reason_and_a_tick(
    client_as, rescored, published
):
    admin = client_as(Role.ADMIN)
    wrong = rescored.score_changes[-1]
    url = f"/threats/{rescored.id}/assessments/{wrong.id}/delete"
    page = admin.get(url)
    assert page.status_code == 200
    assert "Front Line Defenses FY20-21 Q1 (published 2020-10-06)" in page.text
    assert "Figures as of 2020-09-01 and later change" in page.text
    for data in ({"reason": "typo"}, {"confirm": "y"}):
        refused = admin.post(url, data=data)
        assert refused.status_code == 422
        db.session.expire_all()
        assert len(db.session.get(Threat, rescored.id).score_changes) == 2


def test_deleting_a_wrong_assessment_restores_the_one_before_and_is_audited(
    client_as, rescored, published
):
    before_it = figures.heatmap_as_of(date(2020, 8, 31), "residual")
    admin = client_as(Role.ADMIN)
    wrong = rescored.score_changes[-1]
    wrong_id = wrong.id
    done = admin.post(
        f"/threats/{rescored.id}/assessments/{wrong_id}/delete",
        data=CONFIRMED,
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert "The assessment of 2020-09-01 is deleted." in done.text
    assert "Front Line Defenses FY20-21 Q1" in done.text  # the warning after saving
    db.session.expire_all()
    threat = db.session.get(Threat, rescored.id)
    assert [c.residual_score for c in threat.score_changes] == [9]
    assert threat.score_changes[0].superseded_on is None
    assert (threat.residual_score, threat.inherent_score) == (9, 16)
    # A figure as of a day before the deleted assessment is the same; from its day it moves.
    assert figures.heatmap_as_of(date(2020, 8, 31), "residual") == before_it
    cells = figures.heatmap_as_of(date(2020, 9, 30), "residual")
    assert {cell: n for cell, n in cells.items() if n} == {(3, 3): 1}
    (entry,) = _deleted("ThreatScoreChange")
    assert entry.entity_id == str(wrong_id)
    assert entry.old_values["residual_score"] == 25
    assert "Entered on the wrong threat" in entry.summary
    assert entry.actor == "admin@test.example"


def test_the_only_assessment_and_the_first_entry_stay(client_as, register):
    threat = register.threat()
    admin = client_as(Role.ADMIN)
    (only,) = threat.score_changes
    refused = admin.post(f"/threats/{threat.id}/assessments/{only.id}/delete", data=CONFIRMED)
    assert refused.status_code == 422
    assert "at least one assessment" in refused.text
    first = threat.state_changes[0]
    refused = admin.post(f"/threats/{threat.id}/history/{first.id}/delete", data=CONFIRMED)
    assert refused.status_code == 422
    assert "entered the register" in refused.text
    db.session.expire_all()
    assert db.session.get(ThreatScoreChange, only.id) is not None
    assert db.session.get(ThreatStateChange, first.id) is not None
    # An entry of another threat is not reached through this one.
    other = register.threat(title="Another")
    assert (
        admin.get(f"/threats/{threat.id}/history/{other.state_changes[0].id}/delete").status_code
        == 404
    )


def test_deleting_a_wrong_closure_puts_the_threat_back_on_the_register_from_then(
    client_as, register, users
):
    threat = register.threat()
    service.update_threat(
        threat,
        status=ThreatStatus.CLOSED,
        status_changed_on=date(2020, 12, 1),
        author_id=users[Role.SECURITY].id,
        version=threat.version,
    )
    db.session.commit()
    assert threat.status is ThreatStatus.CLOSED
    on_register = sum(figures.heatmap_as_of(date(2020, 12, 31), "residual").values())
    closure = threat.state_changes[-1]
    admin = client_as(Role.ADMIN)
    response = admin.post(f"/threats/{threat.id}/history/{closure.id}/delete", data=CONFIRMED)
    assert response.status_code == 302
    db.session.expire_all()
    threat = db.session.get(Threat, threat.id)
    assert threat.status is not ThreatStatus.CLOSED
    assert threat.state_changes[-1].superseded_on is None
    assert sum(figures.heatmap_as_of(date(2020, 12, 31), "residual").values()) == on_register + 1
    (entry,) = _deleted("ThreatStateChange")
    assert entry.old_values["status"] == "CLOSED"


def test_purge_asks_first_and_names_the_reports(client_as, register, published):
    threat = register.threat()
    threat_id = threat.id
    admin = client_as(Role.ADMIN)
    admin.post(f"/threats/{threat.id}/archive")
    page = admin.get(f"/threats/{threat.id}/purge")
    assert page.status_code == 200
    assert "Figures as of 2020-07-15 and later change" in page.text
    assert "Front Line Defenses FY20-21 Q1" in page.text
    assert admin.post(f"/threats/{threat.id}/purge", data={}).status_code == 422
    assert db.session.get(Threat, threat.id) is not None
    done = admin.post(f"/threats/{threat.id}/purge", data=CONFIRMED)
    assert done.status_code == 302 and "archived=1" in done.headers["Location"]
    assert db.session.scalar(select(Threat.id).where(Threat.id == threat_id)) is None
    (entry,) = _deleted("Threat")
    assert "Entered on the wrong threat" in entry.summary


def test_a_responsibility_never_held_is_deleted_by_an_administrator_only(
    client_as, register, published
):
    system = next(iter(register.systems.values()))
    ada = StaffMember(name="Ada")
    db.session.add(ada)
    db.session.flush()
    held = Responsibility(
        staff_member_id=ada.id,
        system_id=system.id,
        kind=ResponsibilityKind.PRIMARY,
        since=date(2020, 8, 1),
    )
    db.session.add(held)
    db.session.commit()
    held_id = held.id
    url = f"/responsibilities/{held_id}/delete"
    assert client_as(Role.MANAGER).get(url).status_code == 403
    admin = client_as(Role.ADMIN)
    page = admin.get(url)
    assert "Front Line Defenses FY20-21 Q1" in page.text
    assert "end it with its last day" in page.text
    assert admin.post(url, data=CONFIRMED).status_code == 302
    assert db.session.scalar(select(Responsibility.id).where(Responsibility.id == held_id)) is None
    (entry,) = _deleted("Responsibility")
    assert entry.old_values["since"] == "2020-08-01"
