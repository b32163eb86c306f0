"""The FY20-21 Q2 report on the demo data: the deck's table, and the dashboard's figures."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.okrs import Objective
from app.models.user import Role
from app.seed import load_demo
from tests.reports.pdf_text import assert_cells_in_order, flat, kr_page_text, pages_text
from tests.reports.sample import DECK_ROWS

for _area in ("okrs", "threats", "countermeasures", "coverage"):
    pytest.importorskip(f"app.{_area}.figures")


def _testid(html: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>([^<]*)<', html)
    assert found, name
    return found.group(1).strip()


@pytest.fixture
def demo(app, users, monkeypatch):
    load_demo()
    return monkeypatch


def _q2_report(client) -> bytes:
    objective_id = db.session.scalar(
        select(Objective.id).where(
            Objective.title == "Front Line Defenses", Objective.fiscal_year == 2020
        )
    )
    response = client.get(
        "/reports/download", query_string={"objective": objective_id, "quarter": "FY20-21 Q2"}
    )
    assert response.status_code == 200
    return response.data


def test_the_q2_report_holds_the_decks_key_result_table(app, demo, client_as):
    demo.setitem(app.config, "FRONTLINE_TODAY", "2021-01-15")
    text = kr_page_text(_q2_report(client_as(Role.VIEWER)))
    assert_cells_in_order(text, ["Key Results", "Goal", "Q1", "Q2", "Q3", "Q4"])
    for code, statement, goal, q1, q2 in DECK_ROWS:
        assert_cells_in_order(text, [f"{code}: {statement}", goal, q1, q2, "-", "-"])


def test_the_q2_report_figures_equal_the_dashboards(app, demo, client_as):
    # On the last day of Q2 the dashboard shows Q2, as of the same date as the report.
    demo.setitem(app.config, "FRONTLINE_TODAY", "2020-12-31")
    viewer = client_as(Role.VIEWER)
    html = viewer.get("/").get_data(as_text=True)
    assert _testid(html, "dashboard-quarter") == "FY20-21 Q2"
    text = flat(" ".join(pages_text(_q2_report(viewer))))
    expected = {
        "Staff solely responsible for a production system": "fig-spof-staff",
        "Production systems with a single person (SPOF)": "fig-spof-systems",
        "Production systems with nobody responsible": "fig-uncovered",
        "SPOF positions in active hiring": "fig-active-hiring",
        "SPOF positions in final stages": "fig-final-stages",
        "Deployed in FY20-21 Q2": "fig-cm-quarter",
        "Deployed to date in FY20-21": "fig-cm-to-date",
    }
    for label, testid in expected.items():
        assert f"{label} {_testid(html, testid)} " in text, label
    assert re.search(
        rf"SPOF positions filled( of \d+)? {_testid(html, 'fig-positions-filled')} ", text
    )
    assert re.search(rf"{_testid(html, 'fig-open-critical')} open critical risks?;", text)
    assert re.search(rf"{_testid(html, 'fig-reviews-due')} reviews? overdue", text)
    # The deck's Q2 story: one SPOF position filled, four in active hiring, four deployed.
    assert _testid(html, "fig-positions-filled") == "1"
    assert _testid(html, "fig-active-hiring") == "4"
    assert _testid(html, "fig-cm-to-date") == "4"


def test_a_published_quarter_shows_what_the_register_now_gives_differently(app, demo, client_as):
    from datetime import date

    from app.models.countermeasures import Countermeasure, CountermeasureStatus
    from app.models.okrs import KeyResult, KeyResultStatus

    demo.setitem(app.config, "FRONTLINE_TODAY", "2021-01-15")
    manager = client_as(Role.MANAGER)
    objective_id = db.session.scalar(
        select(Objective.id).where(
            Objective.title == "Front Line Defenses", Objective.fiscal_year == 2020
        )
    )
    draft = _q2_report(manager)
    response = manager.post(
        "/reports/publish", data={"objective": objective_id, "quarter": "FY20-21 Q2"}
    )
    assert response.status_code == 302
    # The published document differs from the draft by its sign-off only.
    published = _q2_report(manager)
    assert published != draft
    assert "draft — not published" in flat(pages_text(draft)[0])
    assert "Published on 15 January 2021" in flat(pages_text(published)[0])
    page = manager.get("/reports").get_data(as_text=True)
    assert 'data-testid="no-differences"' in page

    # A late entry (a countermeasure deployed in Q2, recorded in January) and a correction.
    db.session.add(
        Countermeasure(
            title="Late-recorded WAF rule",
            status=CountermeasureStatus.DEPLOYED,
            deployed_on=date(2020, 12, 20),
        )
    )
    status = db.session.scalars(
        select(KeyResultStatus)
        .join(KeyResult)
        .where(
            KeyResult.objective_id == objective_id,
            KeyResult.code == "KR1",
            KeyResultStatus.quarter_start == date(2020, 10, 1),
        )
    ).one()
    status.text = "1 EU data center Shortlist of three cities prepared"
    db.session.commit()

    assert _q2_report(manager) == published  # the download stays as published
    page = manager.get("/reports").get_data(as_text=True)
    differences = page[page.index('data-testid="differences"') :]
    assert "Countermeasures deployed in the quarter</td><td>4</td>" in differences
    assert "KR1 FY20-21 Q2 status" in differences
    assert "Shortlist of three cities prepared" in differences
