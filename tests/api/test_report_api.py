"""Reports through the API: the publications list and the PDF the reports page downloads."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.quarters import parse_quarter
from app.extensions import db
from app.models import Objective
from app.models.user import Role
from app.reports.service import publish_report

TODAY = date(2021, 1, 15)


@pytest.fixture(autouse=True)
def pinned_today(app):
    previous = app.config.get("FRONTLINE_TODAY")
    app.config["FRONTLINE_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config["FRONTLINE_TODAY"] = previous


def test_report_lists_publications_and_answers_the_published_pdf(api_get, client_as, users):
    objective = Objective(title="Front Line Defenses", fiscal_year=2020)
    db.session.add(objective)
    db.session.commit()
    q1 = parse_quarter("FY20-21 Q1", 7)
    query = {"objective": objective.id, "quarter": "FY20-21 Q1"}
    body = api_get("/api/v1/reports", query_string=query).json
    assert body["published"] is False and body["publications"] == []
    live = api_get(body["pdf"])
    assert live.status_code == 200 and live.mimetype == "application/pdf"
    assert live.data.startswith(b"%PDF")
    publication = publish_report(
        objective, q1, reason="", user_id=users[Role.ADMIN].id, today=TODAY
    )
    db.session.commit()
    body = api_get("/api/v1/reports", query_string=query).json
    assert body["published"] is True
    assert [(p["id"], p["current"]) for p in body["publications"]] == [(publication.id, True)]
    pdf = api_get(body["pdf"]).data
    page_pdf = client_as(Role.VIEWER).get("/reports/download", query_string=query).data
    assert pdf == page_pdf == db.session.get(type(publication), publication.id).pdf


def test_report_refusals(api_get):
    objective = Objective(title="Front Line Defenses", fiscal_year=2020)
    db.session.add(objective)
    db.session.commit()
    future = api_get("/api/v1/reports?quarter=FY20-21 Q4")
    assert future.status_code == 422 and "not started" in future.json["errors"]["quarter"]
    assert api_get("/api/v1/reports?quarter=FY19-20 Q4").status_code == 404  # no objective
    other = api_get(f"/api/v1/reports/pdf?objective={objective.id}&quarter=FY19-20 Q4")
    assert other.status_code == 422
    assert api_get("/api/v1/reports?objective=999&quarter=FY20-21 Q1").status_code == 404
    assert api_get("/api/v1/reports").status_code == 422
