"""A token reads the report PDF, the exports and the API docs; it writes nothing outside
/api/v1 and opens no other page."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Objective, Threat
from app.models.user import Role
from tests.api import factories as f

TODAY = date(2021, 1, 15)


@pytest.fixture(autouse=True)
def pinned_today(app):
    previous = app.config.get("FRONTLINE_TODAY")
    app.config["FRONTLINE_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config["FRONTLINE_TODAY"] = previous


def test_a_token_downloads_the_pdf_a_csv_an_xlsx_and_the_docs(client, token_of):
    db.session.add(Objective(title="Front Line Defenses", fiscal_year=2020))
    f.threat("Phishing")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token_of(Role.VIEWER)}"}
    pdf = client.get("/reports/download?quarter=FY20-21 Q1", headers=headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = client.get("/export/threats.csv", headers=headers)
    assert text.status_code == 200 and "Phishing" in text.text
    xlsx = client.get("/export/threats.xlsx", headers=headers)
    assert load_workbook(io.BytesIO(xlsx.data)).active["A2"].value == "Phishing"
    docs = client.get("/api/docs", headers=headers)
    assert docs.status_code == 200 and "/api/v1/threats" in docs.text
    # Without the token the same addresses want a sign-in.
    assert client.get("/export/threats.csv").status_code in (302, 401)
    bad = client.get("/export/threats.csv", headers={"Authorization": "Bearer fl_nope"})
    assert bad.status_code == 401


@pytest.mark.parametrize(
    "method, url",
    [
        ("post", "/threats/new"),
        ("post", "/import/threats"),
        ("post", "/account/tokens"),
        ("post", "/reports/publish"),
        ("get", "/threats"),
        ("get", "/account/tokens"),
    ],
)
def test_a_token_cannot_write_or_browse_outside_the_api(client, token_of, method, url):
    headers = {"Authorization": f"Bearer {token_of(Role.ADMIN)}"}
    before = db.session.scalar(select(func.count()).select_from(Threat))
    response = getattr(client, method)(url, headers=headers, data={"title": "Sneaky"})
    assert response.status_code == 403, response.status_code
    assert "token" in response.json["error"]
    assert db.session.scalar(select(func.count()).select_from(Threat)) == before


def test_the_token_owners_role_applies_to_api_writes(client, token_of):
    viewer = {"Authorization": f"Bearer {token_of(Role.VIEWER)}"}
    response = client.post("/api/v1/threats", json={"title": "X"}, headers=viewer)
    assert response.status_code == 403
