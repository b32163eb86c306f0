from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.coverage import figures
from app.coverage import positions as coverage_positions
from app.extensions import db
from app.models.systems import (
    Position,
    PositionStatus,
    PositionStatusChange,
    Responsibility,
    StaffMember,
)
from app.models.user import Role
from app.validation import InputError
from tests.coverage.conftest import count


@pytest.fixture
def position(make):
    ana = make.person("Ana")
    mw, k8s = make.system("MediaWiki"), make.system("Kubernetes")
    make.resp(ana, mw)
    make.resp(ana, k8s)
    p = coverage_positions.create_position(
        title="SRE", team="SRE", system_ids=[mw.id, k8s.id], opened_on=date(2020, 7, 1)
    )
    db.session.commit()
    return p


def _status(p, **data):
    return {"version": p.version, "changed_on": "2020-11-16", "note": "", **data}


def test_create_position_records_its_opening_status(client_as, make):
    system = make.system("DNS")
    db.session.commit()
    response = client_as(Role.MANAGER).post(
        "/positions/new",
        data={
            "title": "Traffic SRE",
            "team": "Traffic",
            "system_ids": [system.id],
            "opened_on": "2020-07-01",
            "status": "ACTIVE_HIRING",
        },
    )
    assert response.status_code == 302
    p = db.session.scalar(select(Position))
    assert p.status == PositionStatus.ACTIVE_HIRING and [s.name for s in p.systems] == ["DNS"]
    assert [(c.status, c.changed_on) for c in p.status_changes] == [
        (PositionStatus.ACTIVE_HIRING, date(2020, 7, 1))
    ]


def test_status_changes_are_dated_history(client_as, position):
    client = client_as(Role.MANAGER)
    for status, day in (("ACTIVE_HIRING", "2020-07-20"), ("FINAL_STAGES", "2020-09-14")):
        response = client.post(
            f"/positions/{position.id}/status",
            data=_status(position, status=status, changed_on=day),
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        db.session.refresh(position)
    assert position.status == PositionStatus.FINAL_STAGES
    assert figures.positions_in_final_stages(date(2020, 9, 30)) == 1
    assert figures.positions_in_active_hiring(date(2020, 8, 31)) == 1
    assert figures.pipeline_on(date(2020, 7, 1))[PositionStatus.PLANNED] == 1


def test_filling_without_a_hire_is_refused_and_nothing_written(client_as, position):
    changes = count(PositionStatusChange)
    response = client_as(Role.MANAGER).post(
        f"/positions/{position.id}/status", data=_status(position, status="FILLED")
    )
    assert response.status_code == 400
    assert "A filled position needs its hire" in response.get_data(as_text=True)
    db.session.refresh(position)
    assert position.status == PositionStatus.PLANNED and position.hire_id is None
    assert count(PositionStatusChange) == changes
    assert count(Responsibility) == 2


def test_filling_with_a_new_hire_hands_over_the_systems(client_as, position):
    before = figures.spof_staff_count(date(2020, 12, 31))
    response = client_as(Role.MANAGER).post(
        f"/positions/{position.id}/status",
        data=_status(position, status="FILLED", new_hire_name="Priya", add_responsibilities="y"),
    )
    assert response.status_code == 302
    db.session.refresh(position)
    hire = position.hire
    assert (hire.name, hire.team, position.filled_on) == ("Priya", "SRE", date(2020, 11, 16))
    held = db.session.scalars(
        select(Responsibility).where(Responsibility.staff_member_id == hire.id)
    )
    assert sorted((r.system.name, r.since) for r in held) == [
        ("Kubernetes", date(2020, 11, 16)),
        ("MediaWiki", date(2020, 11, 16)),
    ]
    assert before == 1 and figures.spof_staff_count(date(2020, 12, 31)) == 0
    assert figures.spof_staff_count(date(2020, 11, 15)) == 1
    assert figures.positions_filled(date(2020, 11, 16)) == 1


def test_filling_with_an_existing_person_without_handing_over(client_as, position, make):
    bob = make.person("Bob")
    db.session.commit()
    response = client_as(Role.MANAGER).post(
        f"/positions/{position.id}/status",
        data=_status(position, status="FILLED", hire_id=bob.id),  # checkbox unticked
    )
    assert response.status_code == 302
    db.session.refresh(position)
    assert position.hire_id == bob.id
    assert count(Responsibility) == 2


def test_change_dated_before_the_last_one_is_refused(position):
    with pytest.raises(InputError) as error:
        coverage_positions.change_position_status(
            position,
            version=None,
            status=PositionStatus.ACTIVE_HIRING,
            changed_on=date(2020, 6, 30),
        )
    assert "cannot be dated before it" in error.value.errors["changed_on"]


def test_impossible_change_date_is_a_clear_message(client_as, position):
    response = client_as(Role.MANAGER).post(
        f"/positions/{position.id}/status",
        data=_status(position, status="ACTIVE_HIRING", changed_on="2021-02-30"),
    )
    assert response.status_code == 400
    assert "is not a valid date" in response.get_data(as_text=True)
    assert count(PositionStatusChange) == 1


def test_goal_setting(client_as):
    assert figures.spof_positions_goal() == 4
    client = client_as(Role.MANAGER)
    assert client.post("/positions/goal", data={"goal": "6"}).status_code == 302
    assert figures.spof_positions_goal() == 6
    client.post("/positions/goal", data={"goal": "0"})
    assert figures.spof_positions_goal() == 6
    assert client_as(Role.VIEWER).post("/positions/goal", data={"goal": "2"}).status_code == 403


def test_pipeline_page(client_as, position):
    html = client_as(Role.VIEWER).get("/positions").get_data(as_text=True)
    assert "SRE" in html and 'data-testid="filled">0' in html
    response = client_as(Role.VIEWER).get("/positions?date=2021-13-01")
    assert response.status_code == 400 and "is not a valid date" in response.get_data(as_text=True)


def test_hire_created_inline_is_a_staff_member(position):
    coverage_positions.change_position_status(
        position,
        version=position.version,
        status=PositionStatus.FILLED,
        changed_on=date(2020, 12, 1),
        new_hire_name="Zed",
    )
    assert db.session.scalar(select(StaffMember.name).where(StaffMember.name == "Zed")) == "Zed"
