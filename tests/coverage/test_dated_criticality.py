"""A system's criticality is a dated fact: a past quarter's report lists its uncovered
systems with the criticality they had then."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app import figure_cache
from app.auth.tokens import create_token
from app.coverage import systems as coverage_systems
from app.domain.quarters import parse_quarter
from app.extensions import db
from app.models.systems import Criticality, SystemCriticalityChange
from app.models.user import Role
from app.reports.quarter_report.coverage import gather_coverage
from app.validation import InputError
from tests.coverage.conftest import TODAY

Q1 = parse_quarter("FY20-21 Q1")


def _uncovered(day: date) -> list[tuple[str, str]]:
    figure_cache.clear()
    section = gather_coverage(Q1 if day == Q1.last_day else parse_quarter("FY20-21 Q3"), day)
    assert section is not None
    return section.uncovered_systems


def _update(system, **changes):
    values = {
        "version": system.version,
        "name": system.name,
        "description": system.description,
        "team": system.team,
        "criticality": system.criticality,
        "in_production": system.in_production,
        "retired_on": system.retired_on,
    }
    values.update(changes)
    return coverage_systems.update_system(system, **values)


@pytest.fixture
def uncovered(make):
    """Two production systems nobody holds: Billing (low) and DNS (high)."""
    billing = make.system("Billing", criticality=Criticality.LOW)
    dns = make.system("DNS", criticality=Criticality.HIGH)
    db.session.commit()
    return billing, dns


def test_a_past_quarter_lists_the_criticality_of_then(uncovered):
    billing, _ = uncovered
    before = _uncovered(Q1.last_day)
    assert before == [("DNS", "High"), ("Billing", "Low")]
    _update(billing, criticality=Criticality.CRITICAL)
    db.session.commit()
    assert _uncovered(Q1.last_day) == before
    assert _uncovered(TODAY) == [("Billing", "Critical"), ("DNS", "High")]
    (change,) = billing.criticality_changes
    assert (change.previous, change.criticality, change.changed_on) == (
        Criticality.LOW,
        Criticality.CRITICAL,
        TODAY,
    )


def test_a_change_dated_inside_the_past_quarter_corrects_it_from_its_day(uncovered):
    billing, _ = uncovered
    _update(billing, criticality=Criticality.CRITICAL, criticality_changed_on=date(2020, 9, 1))
    db.session.commit()
    assert _uncovered(Q1.last_day) == [("Billing", "Critical"), ("DNS", "High")]
    # Two changes: each day reads the one in force.
    _update(billing, criticality=Criticality.MEDIUM, criticality_changed_on=date(2020, 12, 1))
    db.session.commit()
    assert _uncovered(Q1.last_day)[0] == ("Billing", "Critical")
    assert _uncovered(TODAY) == [("DNS", "High"), ("Billing", "Medium")]


@pytest.mark.parametrize(
    "day, message",
    [
        (TODAY + timedelta(days=1), "cannot be in the future"),
        (date(2020, 8, 1), "last changed on 2020-09-01"),
    ],
)
def test_a_criticality_date_in_the_future_or_before_the_last_change_is_refused(
    uncovered, day, message
):
    billing, _ = uncovered
    _update(billing, criticality=Criticality.HIGH, criticality_changed_on=date(2020, 9, 1))
    db.session.commit()
    with pytest.raises(InputError) as refused:
        _update(billing, criticality=Criticality.LOW, criticality_changed_on=day)
    assert message in refused.value.errors["criticality_changed_on"]
    db.session.rollback()
    assert db.session.query(SystemCriticalityChange).count() == 1


def test_the_edit_form_and_the_api_take_the_day_the_criticality_changed(
    app, client_as, users, uncovered
):
    billing, dns = uncovered
    form = {
        "version": billing.version,
        "name": billing.name,
        "team": billing.team,
        "criticality": "HIGH",
        "in_production": "y",
        "criticality_changed_on": "2030-01-01",
    }
    manager = client_as(Role.MANAGER)
    refused = manager.post(f"/systems/{billing.id}/edit", data=form)
    assert "cannot be in the future" in refused.get_data(as_text=True)
    assert db.session.query(SystemCriticalityChange).count() == 0
    saved = manager.post(
        f"/systems/{billing.id}/edit", data={**form, "criticality_changed_on": "2020-09-01"}
    )
    assert saved.status_code == 302
    _, secret = create_token(users[Role.MANAGER], "test")
    db.session.commit()
    answer = app.test_client().patch(
        f"/api/v1/systems/{dns.id}",
        headers={"Authorization": f"Bearer {secret}"},
        json={"version": dns.version, "criticality": "low", "criticality_changed_on": "2020-12-01"},
    )
    assert answer.status_code == 200, answer.json
    changes = db.session.scalars(
        select(SystemCriticalityChange).order_by(SystemCriticalityChange.id)
    ).all()
    assert [(c.system_id, c.changed_on, c.criticality) for c in changes] == [
        (billing.id, date(2020, 9, 1), Criticality.HIGH),
        (dns.id, date(2020, 12, 1), Criticality.LOW),
    ]
