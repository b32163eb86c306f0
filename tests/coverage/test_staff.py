from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEntry
from app.models.countermeasures import Countermeasure
from app.models.systems import Responsibility, StaffMember
from app.models.threats import Threat
from app.models.user import Role
from tests.coverage.conftest import count


@pytest.fixture
def team(make, users):
    alice = make.person("Alice", user_id=users[Role.SECURITY].id)
    bob = make.person("Bob")
    erp, crm, web = make.system("ERP"), make.system("CRM"), make.system("Website")
    make.resp(alice, erp)
    make.resp(bob, erp, kind="BACKUP")
    make.resp(alice, crm)
    make.resp(bob, web)
    db.session.add(
        Threat(title="Credential stuffing", identified_on=date(2020, 8, 1), owner_id=alice.user_id)
    )
    db.session.add(Countermeasure(title="Rate limiting", owner_id=alice.user_id))
    db.session.commit()
    return {"alice": alice, "bob": bob, "erp": erp, "crm": crm, "web": web}


def _edit(person, **changes):
    data = {
        "version": person.version,
        "name": person.name,
        "team": person.team,
        "active": "y",
        "user_id": person.user_id or "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_create_staff_member(client_as):
    response = client_as(Role.MANAGER).post(
        "/staff/new",
        data={"name": "Carol", "team": "Traffic", "email": "carol@x.example", "active": "y"},
    )
    assert response.status_code == 302
    person = db.session.scalar(select(StaffMember))
    assert (person.name, person.team, person.active) == ("Carol", "Traffic", True)


def test_bad_email_is_refused(client_as):
    response = client_as(Role.MANAGER).post("/staff/new", data={"name": "C", "email": "nope"})
    assert "Enter a valid email address." in response.get_data(as_text=True)
    assert count(StaffMember) == 0


def test_staff_page_shows_departure_preview_and_ownership(client_as, team):
    html = client_as(Role.VIEWER).get(f"/staff/{team['alice'].id}").get_data(as_text=True)
    assert "If Alice left today" in html
    impact = html.split('data-testid="impact"')[1]
    assert "Would become uncovered" in impact and "CRM" in impact
    assert "Would become a single point of failure" in impact and "ERP" in impact
    assert "Credential stuffing" in html and "Rate limiting" in html


def test_leaving_date_that_creates_spof_needs_confirmation_and_writes_nothing(client_as, team):
    alice = team["alice"]
    client = client_as(Role.MANAGER)
    audit_before = count(AuditEntry)
    response = client.post(f"/staff/{alice.id}/edit", data=_edit(alice, left_on="2021-02-26"))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Nothing was saved." in html and "Tick the confirmation box" in html
    assert "CRM" in html and "ERP" in html
    assert "this would leave 1 production system (CRM) uncovered and make 1 production" in html
    assert "Credential stuffing" in html  # what they own, to hand over
    db.session.refresh(alice)
    assert alice.left_on is None
    assert count(AuditEntry) == audit_before

    response = client.post(
        f"/staff/{alice.id}/edit",
        data=_edit(alice, left_on="2021-02-26", confirm_impact="y"),
    )
    assert response.status_code == 302
    db.session.refresh(alice)
    assert alice.left_on == date(2021, 2, 26)
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "StaffMember", AuditEntry.action == "update"
        )
    )
    assert entry.new_values["left_on"] == "2021-02-26"


def test_leaving_without_impact_saves_directly(client_as, make):
    carol, dave = make.person("Carol"), make.person("Dave")
    system = make.system("Mail")
    make.resp(carol, system)
    make.resp(dave, system)
    other = make.person("Erin")
    db.session.commit()
    response = client_as(Role.MANAGER).post(
        f"/staff/{other.id}/edit", data=_edit(other, left_on="2021-01-31")
    )
    assert response.status_code == 302
    db.session.refresh(other)
    assert other.left_on == date(2021, 1, 31)


def test_preview_button_shows_impact_and_writes_nothing(client_as, team):
    bob = team["bob"]
    response = client_as(Role.MANAGER).post(
        f"/staff/{bob.id}/edit", data=_edit(bob, left_on="2021-03-31", preview="Preview")
    )
    html = response.get_data(as_text=True)
    assert "Impact from 2021-04-01" in html and "Website" in html
    db.session.refresh(bob)
    assert bob.left_on is None


def test_impossible_left_date_is_a_clear_message(client_as, team):
    bob = team["bob"]
    response = client_as(Role.MANAGER).post(
        f"/staff/{bob.id}/edit", data=_edit(bob, left_on="2021-02-30")
    )
    assert "is not a valid date" in response.get_data(as_text=True)
    db.session.refresh(bob)
    assert bob.left_on is None


def test_a_user_account_links_to_one_staff_member_only(client_as, team):
    bob = team["bob"]
    response = client_as(Role.MANAGER).post(
        f"/staff/{bob.id}/edit", data=_edit(bob, user_id=team["alice"].user_id)
    )
    assert "already linked to Alice" in response.get_data(as_text=True)
    db.session.refresh(bob)
    assert bob.user_id is None


def test_staff_list_filters(client_as, team, make):
    make.person("Gone", left_on=date(2020, 1, 31))
    db.session.commit()
    client = client_as(Role.VIEWER)
    import re

    def names(url):
        return re.findall(r'data-person="([^"]+)"', client.get(url).get_data(as_text=True))

    assert names("/staff") == ["Alice", "Bob"]
    assert names("/staff?status=left") == ["Gone"]
    assert names("/staff?sole=yes") == ["Alice", "Bob"]
    assert names("/staff?q=ali") == ["Alice"]
    html = client.get("/staff?sort=-sole").get_data(as_text=True)
    assert 'data-person="Alice"' in html


def test_responsible_for_today_leaves_out_retired_systems_and_people_who_left(
    client_as, team, make
):
    import re

    old = make.system("Old mail", retired_on=date(2020, 6, 30))
    make.resp(team["alice"], old)
    gone = make.person("Gone", left_on=date(2020, 1, 31))
    make.resp(gone, team["crm"])
    db.session.commit()
    client = client_as(Role.VIEWER)

    def responsible(url, person):
        html = client.get(url).get_data(as_text=True)
        row = re.search(rf'data-person="{person}">(.*?)</tr>', html, re.S).group(1)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        return re.findall(r">([^<>]+)</a>", cells[2])

    assert responsible("/staff", "Alice") == ["CRM", "ERP"]
    assert responsible("/staff?status=left", "Gone") == []


# Responsibilities.


def test_until_before_since_is_refused_and_nothing_written(client_as, make):
    person, system = make.person("Ana"), make.system("DNS")
    db.session.commit()
    response = client_as(Role.MANAGER).post(
        "/responsibilities/new",
        data={
            "staff_member_id": person.id,
            "system_id": system.id,
            "kind": "PRIMARY",
            "since": "2020-06-01",
            "until": "2020-05-31",
        },
    )
    assert response.status_code == 200
    assert "The end date must be on or after the start date (2020-06-01)." in response.get_data(
        as_text=True
    )
    assert count(Responsibility) == 0


def test_until_before_since_on_edit_is_refused(client_as, make):
    r = make.resp(make.person("Ana"), make.system("DNS"), since=date(2020, 6, 1))
    db.session.commit()
    response = client_as(Role.MANAGER).post(
        f"/responsibilities/{r.id}/edit",
        data={
            "version": r.version,
            "kind": "PRIMARY",
            "since": "2020-06-01",
            "until": "2020-01-01",
        },
    )
    assert "must be on or after the start date" in response.get_data(as_text=True)
    db.session.refresh(r)
    assert r.until is None


def test_add_responsibility_needs_a_person_and_a_start(client_as, make):
    system = make.system("DNS")
    db.session.commit()
    client = client_as(Role.MANAGER)
    html = client.post(
        "/responsibilities/new",
        data={"system_id": system.id, "kind": "PRIMARY", "since": "2020-06-01"},
    ).get_data(as_text=True)
    assert "Choose a staff member." in html
    assert count(Responsibility) == 0


def test_overlapping_duplicate_is_refused(client_as, make):
    person, system = make.person("Ana"), make.system("DNS")
    make.resp(person, system, since=date(2019, 1, 1))
    db.session.commit()
    html = (
        client_as(Role.MANAGER)
        .post(
            "/responsibilities/new",
            data={
                "staff_member_id": person.id,
                "system_id": system.id,
                "kind": "PRIMARY",
                "since": "2020-06-01",
            },
        )
        .get_data(as_text=True)
    )
    assert "already has a primary responsibility" in html
    assert count(Responsibility) == 1


def test_ending_the_last_responsibility_needs_confirmation(client_as, make):
    r = make.resp(make.person("Ana"), make.system("DNS"))
    db.session.commit()
    client = client_as(Role.MANAGER)
    data = {"version": r.version, "kind": "PRIMARY", "since": "2019-01-01", "until": "2021-01-31"}
    response = client.post(f"/responsibilities/{r.id}/edit", data=data)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "leave 1 production system (DNS) uncovered" in html
    db.session.refresh(r)
    assert r.until is None
    response = client.post(f"/responsibilities/{r.id}/edit", data={**data, "confirm_impact": "y"})
    assert response.status_code == 302
    db.session.refresh(r)
    assert r.until == date(2021, 1, 31)


def test_ending_one_of_two_rows_of_the_same_person_has_no_impact(client_as, make):
    ana, bea = make.person("Ana"), make.person("Bea")
    system = make.system("DNS")
    r = make.resp(ana, system)
    make.resp(ana, system, kind="BACKUP")
    make.resp(bea, system)
    db.session.commit()
    response = client_as(Role.MANAGER).post(
        f"/responsibilities/{r.id}/edit",
        data={
            "version": r.version,
            "kind": "PRIMARY",
            "since": "2019-01-01",
            "until": "2021-01-31",
        },
    )
    assert response.status_code == 302


@pytest.mark.parametrize("left_on", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("button", [{}, {"preview": "y"}])
def test_left_date_outside_the_calendar_is_a_clear_message(client_as, team, left_on, button):
    bob = team["bob"]
    audit_before = count(AuditEntry)
    response = client_as(Role.MANAGER).post(
        f"/staff/{bob.id}/edit", data=_edit(bob, left_on=left_on, confirm_impact="y", **button)
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-field-error="left_on"' in html
    assert f"{left_on} is out of range: give a date from 1900 to 2999." in html
    db.session.refresh(bob)
    assert bob.left_on is None and count(AuditEntry) == audit_before
