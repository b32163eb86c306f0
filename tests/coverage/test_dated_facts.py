"""Leaving, production and hiring status are dated facts: the past stays as it was."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app import figure_cache
from app.coverage import figures
from app.coverage import positions as coverage_positions
from app.coverage import systems as coverage_systems
from app.extensions import db
from app.models.audit import AuditEntry
from app.models.okrs import Objective
from app.models.reports import ReportPublication
from app.models.systems import (
    Position,
    PositionStatus,
    PositionStatusChange,
    StaffMember,
    SystemProductionChange,
)
from app.models.user import Role
from app.validation import InputError
from tests.coverage.conftest import TODAY, count

Q1_END = date(2020, 9, 30)


def _coverage(day):
    figure_cache.clear()
    c = figures.coverage_on(day)
    return (c.spof_staff_count, c.spof_system_count, c.uncovered_count)


@pytest.fixture
def sole(make):
    """Ana, alone on DNS since 2019."""
    ana = make.person("Ana")
    dns = make.system("DNS")
    make.resp(ana, dns)
    db.session.commit()
    return ana, dns


def _staff_form(person, **changes):
    data = {"version": person.version, "name": person.name, "team": person.team, "active": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_unticking_active_asks_first_then_records_gone_from_today(client_as, sole):
    ana, _ = sole
    client = client_as(Role.MANAGER)
    before = {day: _coverage(day) for day in (Q1_END, TODAY - timedelta(days=1))}

    response = client.post(f"/staff/{ana.id}/edit", data=_staff_form(ana, active=None))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert f"From {TODAY.isoformat()} this would leave 1 production system (DNS) uncovered" in html
    db.session.refresh(ana)
    assert ana.left_on is None

    response = client.post(
        f"/staff/{ana.id}/edit", data=_staff_form(ana, active=None, confirm_impact="y")
    )
    assert response.status_code == 302
    db.session.refresh(ana)
    assert ana.left_on == TODAY - timedelta(days=1) and not ana.active
    # Every figure before today as it was; today's moves.
    assert {day: _coverage(day) for day in before} == before
    assert _coverage(TODAY) == (0, 0, 1)


def test_the_form_says_what_unticking_active_does(client_as, sole):
    html = client_as(Role.MANAGER).get(f"/staff/{sole[0].id}/edit").get_data(as_text=True)
    assert "Unticking Active records that the person is gone from today" in html


def test_a_leaving_date_before_a_responsibilitys_start_is_refused(client_as, make, sole):
    ana, _ = sole
    web = make.system("Web")
    make.resp(ana, web, since=date(2020, 11, 1))
    db.session.commit()
    audit = count(AuditEntry)
    response = client_as(Role.MANAGER).post(
        f"/staff/{ana.id}/edit",
        data=_staff_form(ana, left_on="2020-10-15", confirm_impact="y"),
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Ana is responsible for Web from 2020-11-01: the leaving date cannot be before" in html
    db.session.refresh(ana)
    assert ana.left_on is None and count(AuditEntry) == audit


def test_the_api_unticks_active_as_leaving_and_a_patch_without_it_keeps_the_person(client, sole):
    from app.auth.tokens import create_token
    from app.models.user import User

    ana, _ = sole
    manager = User(email="m@x.example", name="M", role=Role.MANAGER, password_hash="x")
    db.session.add(manager)
    db.session.commit()
    _, secret = create_token(manager, "t")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    url = f"/api/v1/staff/{ana.id}"
    kept = client.patch(url, headers=headers, json={"version": ana.version, "team": "Ops"})
    assert kept.status_code == 200 and kept.json["left_on"] is None and kept.json["active"]
    version = kept.json["version"]
    refused = client.patch(url, headers=headers, json={"version": version, "active": False})
    assert refused.status_code == 422 and "confirm_impact" in refused.json["errors"]
    gone = client.patch(
        url,
        headers=headers,
        json={"version": version, "active": False, "confirm_impact": True},
    )
    assert gone.status_code == 200
    assert gone.json["left_on"] == (TODAY - timedelta(days=1)).isoformat()
    assert gone.json["active"] is False


def test_taking_a_system_out_of_production_is_dated(make, sole):
    _, dns = sole
    before = _coverage(Q1_END)
    coverage_systems.update_system(
        dns,
        version=dns.version,
        name="DNS",
        description="",
        team="SRE",
        criticality=dns.criticality,
        in_production=False,
        retired_on=None,
        production_changed_on=date(2020, 12, 1),
    )
    db.session.commit()
    assert _coverage(Q1_END) == before == (1, 1, 0)
    assert _coverage(date(2020, 12, 1)) == (0, 0, 0)
    change = db.session.scalar(select(SystemProductionChange))
    assert (change.changed_on, change.in_production) == (date(2020, 12, 1), False)

    # Back into production: not before the last change, not in the future.
    for day, message in (
        (date(2020, 11, 1), "last changed on 2020-12-01"),
        (TODAY + timedelta(days=1), "cannot be in the future"),
    ):
        with pytest.raises(InputError) as refused:
            coverage_systems.update_system(
                dns,
                version=None,
                name="DNS",
                description="",
                team="SRE",
                criticality=dns.criticality,
                in_production=True,
                retired_on=None,
                production_changed_on=day,
            )
        assert message in refused.value.errors["production_changed_on"]
        db.session.rollback()
    assert count(SystemProductionChange) == 1


def test_the_systems_list_reads_the_production_flag_of_its_date(client_as, make, sole):
    _, dns = sole
    coverage_systems.update_system(
        dns,
        version=None,
        name="DNS",
        description="",
        team="SRE",
        criticality=dns.criticality,
        in_production=False,
        retired_on=None,
        production_changed_on=date(2020, 12, 1),
    )
    db.session.commit()
    client = client_as(Role.VIEWER)
    then = client.get("/systems", query_string={"state": "spof", "date": "2020-09-30"})
    now = client.get("/systems", query_string={"state": "spof"})
    assert "DNS" in then.get_data(as_text=True)
    assert "DNS" not in now.get_data(as_text=True).split("<tbody")[1]


# Positions.


@pytest.fixture
def filled(make, users):
    hire = make.person("Hana")
    position = coverage_positions.create_position(
        title="SRE", opened_on=date(2020, 7, 1), status=PositionStatus.ACTIVE_HIRING
    )
    coverage_positions.change_position_status(
        position,
        version=None,
        status=PositionStatus.FILLED,
        changed_on=date(2020, 11, 2),
        hire_id=hire.id,
    )
    db.session.commit()
    return position


def test_the_status_form_offers_the_next_step_and_nothing_after_filled(client_as, make, filled):
    client = client_as(Role.MANAGER)
    html = client.get(f"/positions/{filled.id}").get_data(as_text=True)
    select_html = html.split('name="status"')[1].split("</select>")[0]
    assert '<option selected value="">— choose the new status —</option>' in select_html
    assert 'value="FILLED"' not in select_html
    other = coverage_positions.create_position(title="Ops", opened_on=date(2020, 7, 1))
    db.session.commit()
    html = client.get(f"/positions/{other.id}").get_data(as_text=True)
    assert '<option selected value="ACTIVE_HIRING">' in html


def test_pressing_the_button_on_a_filled_position_does_not_unfill_it(client_as, filled):
    response = client_as(Role.MANAGER).post(
        f"/positions/{filled.id}/status",
        data={"version": filled.version, "status": "", "changed_on": TODAY.isoformat()},
    )
    assert response.status_code == 400
    assert "Choose the new status." in response.get_data(as_text=True)
    db.session.refresh(filled)
    assert filled.status == PositionStatus.FILLED


def test_unfilling_needs_a_confirmation_and_moves_only_the_days_after(client_as, filled):
    client = client_as(Role.MANAGER)
    data = {"version": filled.version, "status": "PLANNED", "changed_on": TODAY.isoformat()}
    response = client.post(f"/positions/{filled.id}/status", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This moves the position back from filled to planned" in html
    assert 'data-testid="confirm-backwards"' in html
    assert count(PositionStatusChange) == 2
    response = client.post(
        f"/positions/{filled.id}/status", data={**data, "confirm_backwards": "y"}
    )
    assert response.status_code == 302
    assert figures.positions_filled(date(2020, 12, 31)) == 1
    assert figures.positions_filled(TODAY) == 0


def test_a_status_change_in_the_future_is_refused(filled):
    with pytest.raises(InputError) as refused:
        coverage_positions.change_position_status(
            filled,
            version=None,
            status=PositionStatus.CANCELLED,
            changed_on=TODAY + timedelta(days=3),
        )
    assert "cannot be in the future" in refused.value.errors["changed_on"]


# Corrections inside a published quarter.


def test_a_change_dated_inside_a_published_quarter_names_the_report(client_as, users, sole):
    ana, _ = sole
    objective = Objective(title="Front Line Defenses", fiscal_year=2020)
    db.session.add(objective)
    db.session.flush()
    db.session.add(
        ReportPublication(
            objective_id=objective.id,
            quarter_start=date(2020, 10, 1),
            generated_on=date(2021, 1, 5),
            pdf=b"%PDF",
            figures={},
        )
    )
    db.session.commit()
    client = client_as(Role.MANAGER)
    response = client.post(
        f"/staff/{ana.id}/edit",
        data=_staff_form(ana, left_on="2020-11-30", confirm_impact="y"),
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "This change takes effect on 2020-12-01, inside published quarters" in html
    assert "Front Line Defenses FY20-21 Q2" in html
    # Clearing the date again is a correction from the same day.
    person = db.session.get(StaffMember, ana.id)
    response = client.post(
        f"/staff/{ana.id}/edit",
        data=_staff_form(person, left_on=None, active="y"),
        follow_redirects=True,
    )
    assert "inside published quarters" in response.get_data(as_text=True)
    # A change dated after the published quarter names nothing.
    position = coverage_positions.create_position(title="Later", opened_on=date(2021, 1, 4))
    db.session.commit()
    response = client.post(
        f"/positions/{position.id}/status",
        data={"version": position.version, "status": "ACTIVE_HIRING", "changed_on": "2021-01-10"},
        follow_redirects=True,
    )
    assert "inside published quarters" not in response.get_data(as_text=True)
    assert db.session.get(Position, position.id).status == PositionStatus.ACTIVE_HIRING


def test_the_gaps_counted_in_sql_follow_every_dated_fact_as_the_domain_does(make):
    """Production changes both ways, a retirement, a leaver, a handover and one person
    holding a system twice, read on days either side of each (more days than one query
    counts): the gaps equal the domain's coverage every day."""
    ana, bo = make.person("Ana"), make.person("Bo", left_on=date(2020, 11, 10))
    dns, mail, web = make.system("DNS"), make.system("Mail"), make.system("Web")
    cache, queue = make.system("Cache"), make.system("Queue")
    legacy = make.system("Legacy", in_production=False)
    web.retired_on = date(2020, 11, 1)
    make.resp(ana, dns)
    make.resp(ana, mail)
    make.resp(bo, mail)
    make.resp(bo, cache)
    make.resp(bo, cache, kind="BACKUP")
    make.resp(ana, queue, until=date(2020, 9, 30))
    make.resp(bo, queue, since=date(2020, 10, 1))
    make.resp(ana, legacy)
    for system, day, flag in (
        (dns, date(2020, 10, 15), False),
        (dns, date(2020, 12, 1), True),
        (legacy, date(2020, 8, 1), False),
    ):
        db.session.add(
            SystemProductionChange(system_id=system.id, changed_on=day, in_production=flag)
        )
    db.session.commit()
    days = [date(2020, 7, 31), date(2020, 8, 1), date(2020, 9, 30), date(2020, 10, 1)]
    days += [date(2020, 10, 14), date(2020, 10, 15), date(2020, 10, 31), date(2020, 11, 1)]
    days += [date(2020, 11, 10), date(2020, 11, 11), date(2020, 11, 30), date(2020, 12, 1)]
    figure_cache.clear()
    gaps = figures.coverage_gaps_on_dates(days)
    for day in days:
        c = figures.coverage_on(day)
        assert [s.name for s in gaps[day].spof_systems] == [s.name for s in c.spof_systems], day
        assert [s.name for s in gaps[day].uncovered_systems] == [
            s.name for s in c.uncovered_systems
        ], day
        assert [(p.name, [s.name for s in owned]) for p, owned in gaps[day].sole_responsible] == [
            (p.name, [s.name for s in owned]) for p, owned in c.sole_responsible
        ], day
    spof = {day: {s.name for s in gaps[day].spof_systems} for day in days}
    uncovered = {day: {s.name for s in gaps[day].uncovered_systems} for day in days}
    assert "Legacy" in spof[date(2020, 7, 31)] and "Legacy" not in spof[date(2020, 8, 1)]
    assert "DNS" not in spof[date(2020, 10, 15)] and "DNS" in spof[date(2020, 12, 1)]
    assert "Web" in uncovered[date(2020, 10, 31)] and "Web" not in uncovered[date(2020, 11, 1)]
    assert "Cache" in spof[date(2020, 11, 10)] and "Cache" in uncovered[date(2020, 11, 11)]
    assert "Mail" not in spof[date(2020, 11, 10)] and "Mail" in spof[date(2020, 11, 11)]
