"""On the demo (today 2021-01-15): ordinary edits made today leave the FY20-21 Q1 and Q2
reports and the API's past figures exactly as they were, and move today's figures; a
countermeasure recorded through the API after the fact counts in its quarter everywhere."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app import figure_cache
from app.auth.tokens import create_token
from app.coverage import figures as coverage_figures
from app.extensions import db
from app.models.okrs import Objective
from app.models.systems import Position, PositionStatus, Responsibility, StaffMember, System
from app.models.user import Role, User
from app.seed import load_demo
from tests.okrs.helpers import read_kr_tables
from tests.reports.pdf_text import flat, pages_text

for _area in ("okrs", "threats", "countermeasures", "coverage", "reports"):
    pytest.importorskip(f"app.{_area}.figures" if _area != "reports" else "app.reports.pdf")

TODAY = date(2021, 1, 15)
Q1_END, Q2_END = date(2020, 9, 30), date(2020, 12, 31)


@pytest.fixture
def demo(app, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", TODAY.isoformat())
    context = load_demo()
    db.session.commit()
    return context


@pytest.fixture
def as_role(app, client, demo):
    """``as_role(Role.MANAGER)``: a bearer-token header for a demo user of that role."""

    def headers(role: Role) -> dict:
        user = db.session.scalar(select(User).where(User.role == role).limit(1))
        _, secret = create_token(user, "demo test")
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return headers


def _objective_id() -> int:
    return db.session.scalar(
        select(Objective.id).where(
            Objective.title == "Front Line Defenses", Objective.fiscal_year == 2020
        )
    )


def published_view(page, client, headers) -> dict:
    """The two reports' bytes and the API's figures as of the past dates."""
    figure_cache.clear()
    view = {}
    for label in ("FY20-21 Q1", "FY20-21 Q2"):
        pdf = page.get(
            "/reports/download", query_string={"objective": _objective_id(), "quarter": label}
        )
        assert pdf.status_code == 200
        view[("pdf", label)] = pdf.data
        quarter = client.get(f"/api/v1/quarters/{label}", headers=headers)
        assert quarter.status_code == 200
        view[("quarter", label)] = quarter.json
    for day in ("2020-09-30", "2020-12-31"):
        response = client.get("/api/v1/coverage", query_string={"date": day}, headers=headers)
        assert response.status_code == 200
        view[("coverage", day)] = response.json
    return view


def today_figures(client, headers) -> dict:
    figure_cache.clear()
    return client.get(
        "/api/v1/coverage", query_string={"date": TODAY.isoformat()}, headers=headers
    ).json


def test_todays_edits_leave_the_q1_and_q2_reports_and_past_figures_unchanged(
    app, client, demo, as_role, client_as
):
    viewer = as_role(Role.VIEWER)
    page, manager = client_as(Role.VIEWER), client_as(Role.MANAGER)
    before, now_before = published_view(page, client, viewer), today_figures(client, viewer)

    # 1. Untick Active on a person solely responsible in Q1 (and still here): asked, then saved.
    q1 = coverage_figures.coverage_on(Q1_END)
    person = next(
        db.session.get(StaffMember, fact.id)
        for fact, _ in q1.sole_responsible
        if db.session.get(StaffMember, fact.id).left_on is None
    )
    form = {
        "version": person.version,
        "name": person.name,
        "team": person.team,
        "email": person.email or "",
        "user_id": person.user_id or "",
    }
    asked = manager.post(f"/staff/{person.id}/edit", data=form)
    assert asked.status_code == 409
    assert "Tick the confirmation box" in asked.get_data(as_text=True)
    saved = manager.post(f"/staff/{person.id}/edit", data={**form, "confirm_impact": "y"})
    assert saved.status_code == 302
    db.session.refresh(person)
    assert person.left_on == TODAY - timedelta(days=1)

    # 2. Un-fill the filled position (a step back: confirmed).
    position = db.session.scalar(select(Position).where(Position.status == PositionStatus.FILLED))
    data = {"version": position.version, "status": "PLANNED", "changed_on": TODAY.isoformat()}
    assert manager.post(f"/positions/{position.id}/status", data=data).status_code == 400
    response = manager.post(
        f"/positions/{position.id}/status", data={**data, "confirm_backwards": "y"}
    )
    assert response.status_code == 302

    # 3. End a responsibility today.
    responsibility = db.session.scalar(
        select(Responsibility)
        .join(StaffMember)
        .where(Responsibility.until.is_(None), StaffMember.left_on.is_(None))
        .order_by(Responsibility.id)
        .limit(1)
    )
    response = manager.post(
        f"/responsibilities/{responsibility.id}/edit",
        data={
            "version": responsibility.version,
            "kind": responsibility.kind.name,
            "since": responsibility.since.isoformat(),
            "until": TODAY.isoformat(),
            "confirm_impact": "y",
        },
    )
    assert response.status_code == 302

    # 4. Retire a production system today.
    system = db.session.scalar(
        select(System)
        .where(System.in_production.is_(True), System.retired_on.is_(None))
        .order_by(System.name)
        .limit(1)
    )
    response = manager.post(
        f"/systems/{system.id}/edit",
        data={
            "version": system.version,
            "name": system.name,
            "team": system.team,
            "criticality": system.criticality.name,
            "in_production": "y",
            "retired_on": TODAY.isoformat(),
        },
    )
    assert response.status_code == 302

    after, now_after = published_view(page, client, viewer), today_figures(client, viewer)
    for key in before:
        assert after[key] == before[key], key
    assert now_after != now_before
    assert now_after["uncovered_count"] > now_before["uncovered_count"] or (
        now_after["spof_staff_count"] != now_before["spof_staff_count"]
    )


def _quarter_page_figures(client) -> tuple[int, int]:
    html = client.get("/quarters/FY20-21 Q2").get_data(as_text=True)
    found = [
        int(re.search(rf'data-testid="{name}">\s*(\d+)', html).group(1))
        for name in ("deployed-in-quarter", "deployed-to-date")
    ]
    return found[0], found[1]


def test_a_countermeasure_recorded_after_the_fact_counts_in_its_quarter_everywhere(
    app, client, demo, as_role, client_as
):
    security, viewer = as_role(Role.SECURITY), as_role(Role.VIEWER)
    page = client_as(Role.VIEWER)
    in_quarter, to_date = _quarter_page_figures(page)
    created = client.post(
        "/api/v1/countermeasures",
        headers=security,
        json={
            "title": "Late-recorded geo-blocking",
            "planned_on": "2020-10-05",
            "target_quarter": "FY20-21 Q2",
        },
    )
    assert created.status_code == 201, created.json
    deployed = client.post(
        f"/api/v1/countermeasures/{created.json['id']}/deploy",
        headers=security,
        json={"version": created.json["version"], "deployed_on": "2020-11-20"},
    )
    assert deployed.status_code == 200, deployed.json
    figure_cache.clear()

    quarter = client.get("/api/v1/quarters/FY20-21 Q2", headers=viewer).json
    assert (quarter["countermeasures_deployed"], quarter["countermeasures_deployed_to_date"]) == (
        in_quarter + 1,
        to_date + 1,
    )
    assert _quarter_page_figures(page) == (in_quarter + 1, to_date + 1)
    table = read_kr_tables(page.get("/okrs?year=FY20-21").get_data(as_text=True))
    kr3 = table["Front Line Defenses"]["KR3"]["q2"]["register"]
    assert kr3 == f"register: {to_date + 1} countermeasures deployed to date"
    pdf = page.get(
        "/reports/download", query_string={"objective": _objective_id(), "quarter": "FY20-21 Q2"}
    ).data
    text = flat(" ".join(pages_text(pdf)))
    assert f"Deployed in FY20-21 Q2 {in_quarter + 1} target" in text
    assert f"Deployed to date in FY20-21 {to_date + 1} yearly goal" in text
