from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.coverage import systems as coverage_systems
from app.extensions import db
from app.models.audit import AuditEntry
from app.models.systems import Criticality, System
from app.models.user import Role
from app.validation import InputError
from tests.coverage.conftest import count

NEW = {"name": "Payments API", "team": "SRE", "criticality": "HIGH", "in_production": "y"}


def test_manager_creates_a_system_and_it_is_audited(client_as):
    response = client_as(Role.MANAGER).post("/systems/new", data=NEW)
    assert response.status_code == 302
    system = db.session.scalar(select(System))
    assert (system.name, system.criticality, system.in_production) == (
        "Payments API",
        Criticality.HIGH,
        True,
    )
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "System"))
    assert entry.action == "create" and entry.actor == "manager@test.example"


def test_duplicate_system_name_is_refused_and_nothing_written(client_as, make):
    make.system("Payments API")
    db.session.commit()
    response = client_as(Role.ADMIN).post("/systems/new", data={**NEW, "name": " payments api "})
    assert response.status_code == 200
    assert "A system named &#34;payments api&#34; already exists." in response.get_data(
        as_text=True
    )
    assert count(System) == 1


def test_duplicate_name_on_edit_is_refused(client_as, make):
    make.system("DNS")
    other = make.system("Mail")
    db.session.commit()
    response = client_as(Role.MANAGER).post(
        f"/systems/{other.id}/edit",
        data={**NEW, "name": "DNS", "version": other.version},
    )
    assert "already exists" in response.get_data(as_text=True)
    db.session.refresh(other)
    assert other.name == "Mail"


def test_service_refuses_empty_name():
    with pytest.raises(InputError) as error:
        coverage_systems.create_system(name="  ")
    assert error.value.errors == {"name": "Enter a name."}


def test_stale_edit_is_a_conflict_with_a_clear_message(client_as, make):
    system = make.system("DNS")
    db.session.commit()
    client = client_as(Role.MANAGER)
    stale = system.version
    assert (
        client.post(f"/systems/{system.id}/edit", data={**NEW, "version": stale}).status_code == 302
    )
    response = client.post(
        f"/systems/{system.id}/edit", data={**NEW, "name": "Other", "version": stale}
    )
    assert response.status_code == 409
    assert "Someone else changed" in response.get_data(as_text=True)
    db.session.refresh(system)
    assert system.name == "Payments API"


def test_bad_retired_date_is_a_clear_message(client_as):
    response = client_as(Role.MANAGER).post(
        "/systems/new", data={**NEW, "retired_on": "2021-02-30"}
    )
    assert response.status_code == 200
    assert "&#34;2021-02-30&#34; is not a valid date" in response.get_data(as_text=True)
    assert count(System) == 0


def test_viewer_and_security_may_read_but_not_write(client_as, make):
    system = make.system("DNS")
    db.session.commit()
    for role in (Role.VIEWER, Role.SECURITY):
        client = client_as(role)
        assert client.get("/systems").status_code == 200
        assert client.get(f"/systems/{system.id}").status_code == 200
        assert client.post("/systems/new", data=NEW).status_code == 403
        assert client.get(f"/systems/{system.id}/edit").status_code == 403
    assert count(System) == 1


@pytest.fixture
def estate(make):
    alice, bob = make.person("Alice"), make.person("Bob")
    covered = make.system("Covered db", criticality=Criticality.CRITICAL, team="DBA")
    spof = make.system("Spof cache", criticality=Criticality.LOW)
    uncovered = make.system("Uncovered dns", criticality=Criticality.HIGH)
    staging = make.system("Staging", in_production=False)
    make.system("Old mail", retired_on=date(2020, 1, 1))
    make.resp(alice, covered)
    make.resp(bob, covered, kind="BACKUP")
    make.resp(alice, spof)
    make.resp(bob, uncovered, until=date(2020, 12, 31))  # ended before today
    make.resp(alice, staging)
    db.session.commit()
    return {"covered": covered, "spof": spof, "uncovered": uncovered, "staging": staging}


def _names(response) -> list[str]:
    import re

    return re.findall(r'data-system="([^"]+)"', response.get_data(as_text=True))


def test_list_filters_by_coverage_state_as_of_today(client_as, estate):
    client = client_as(Role.VIEWER)
    assert _names(client.get("/systems?state=spof")) == ["Spof cache"]
    assert _names(client.get("/systems?state=uncovered")) == ["Uncovered dns"]
    assert _names(client.get("/systems?state=covered")) == ["Covered db"]
    # As of a date when Bob still looked after DNS, it was a SPOF.
    assert _names(client.get("/systems?state=spof&date=2020-06-01")) == [
        "Spof cache",
        "Uncovered dns",
    ]


def test_list_search_filter_sort_and_retired(client_as, estate):
    client = client_as(Role.VIEWER)
    assert _names(client.get("/systems")) == [
        "Covered db",
        "Spof cache",
        "Staging",
        "Uncovered dns",
    ]
    assert _names(client.get("/systems?show=retired")) == ["Old mail"]
    assert _names(client.get("/systems?q=cache")) == ["Spof cache"]
    assert _names(client.get("/systems?team=DBA")) == ["Covered db"]
    assert _names(client.get("/systems?production=no")) == ["Staging"]
    assert _names(client.get("/systems?criticality=HIGH")) == ["Uncovered dns"]
    assert _names(client.get("/systems?sort=-criticality"))[:2] == ["Covered db", "Uncovered dns"]
    assert _names(client.get("/systems?sort=-people"))[0] == "Covered db"


def test_list_shows_people_and_state_per_row(client_as, estate):
    html = client_as(Role.VIEWER).get("/systems").get_data(as_text=True)
    row = html.split('data-system="Covered db"')[1].split("</tr>")[0]
    assert "Alice" in row and "Bob" in row and 'data-state="covered"' in row
    staging = html.split('data-system="Staging"')[1].split("</tr>")[0]
    assert 'data-state="none"' in staging


def test_list_with_an_impossible_date_says_so_without_500(client_as, estate):
    response = client_as(Role.VIEWER).get("/systems?state=spof&date=2021-02-30")
    assert response.status_code == 400
    assert "is not a valid date" in response.get_data(as_text=True)


def test_system_page_shows_people_over_time(client_as, estate):
    html = client_as(Role.VIEWER).get(f"/systems/{estate['uncovered'].id}").get_data(as_text=True)
    assert "Nobody is responsible for this production system today." in html
    assert "Bob" in html and "2020-12-31" in html and "ended" in html


def test_list_query_count_does_not_grow_with_rows(app, client_as, make):
    from bench.harness import count_queries

    def queries_for(url):
        with count_queries(app) as counter:
            assert client.get(url).status_code == 200
        return counter["n"]

    client = client_as(Role.VIEWER)
    people = [make.person(f"P{i}") for i in range(3)]
    for i in range(3):
        make.resp(people[i % 3], make.system(f"S{i:03d}"))
    db.session.commit()
    small = [queries_for("/systems"), queries_for("/systems?state=spof&sort=-people")]
    for i in range(3, 40):
        make.resp(people[i % 3], make.system(f"S{i:03d}"))
    db.session.commit()
    big = [queries_for("/systems"), queries_for("/systems?state=spof&sort=-people")]
    assert big == small
