"""The dashboard at /: the current quarter's figures, from the report's own gatherer."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models.okrs import KeyResult, KeyResultStatus, Objective
from app.models.user import Role
from bench.harness import count_queries


@pytest.fixture(autouse=True)
def demo_today(app, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", "2021-01-15")


def _objective(key_results: int = 1) -> Objective:
    objective = Objective(title="Front Line Defenses", statement="Secured.", fiscal_year=2020)
    for n in range(1, key_results + 1):
        kr = KeyResult(code=f"KR{n}", statement=f"Key result {n}", goal_text=f"Goal {n}")
        for month in (7, 10):
            kr.statuses.append(
                KeyResultStatus(quarter_start=date(2020, month, 1), text=f"KR{n} in {month}")
            )
        objective.key_results.append(kr)
    db.session.add(objective)
    db.session.commit()
    return objective


@pytest.mark.parametrize("role", list(Role))
def test_every_role_sees_the_dashboard_even_when_empty(client_as, role):
    page = client_as(role).get("/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "FY20-21 Q3" in body
    assert "No objective has been set for FY20-21." in body
    assert "dashboard-download" not in body


def test_dashboard_offers_the_last_complete_quarter_report(client_as, users):
    objective = _objective()
    body = client_as(Role.VIEWER).get("/").get_data(as_text=True)
    assert f"/reports/download?objective={objective.id}&amp;quarter=FY20-21+Q2" in body
    assert "Download the FY20-21 Q2 report (PDF)" in body


def test_dashboard_query_count_does_not_grow_with_key_results(app, client_as, users):
    client = client_as(Role.VIEWER)
    objective = _objective(key_results=2)
    client.get("/")
    with count_queries(app) as small:
        assert client.get("/").status_code == 200
    for n in range(3, 13):
        kr = KeyResult(code=f"KR{n}", statement=f"Key result {n}", goal_text="Goal")
        kr.statuses.append(KeyResultStatus(quarter_start=date(2020, 10, 1), text="text"))
        objective.key_results.append(kr)
    db.session.commit()
    with count_queries(app) as large:
        assert client.get("/").status_code == 200
    assert large["n"] == small["n"]
