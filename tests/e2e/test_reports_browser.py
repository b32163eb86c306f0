"""Leadership's path: sign in, read the dashboard, download the quarter's PDF."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.extensions import db
from app.models.okrs import KeyResult, KeyResultStatus, Objective
from app.models.user import Role
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD
from tests.e2e.conftest import sign_in_browser
from tests.reports.pdf_text import flat, pages_text

pytestmark = pytest.mark.e2e


@pytest.fixture
def objective(app, users, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", "2021-01-15")
    objective = Objective(
        title="Front Line Defenses", statement="Staffed and secured.", fiscal_year=2020
    )
    kr = KeyResult(code="KR1", statement="Plan a second EU data center.", goal_text="Two")
    kr.statuses.append(KeyResultStatus(quarter_start=date(2020, 7, 1), text="Planning not started"))
    objective.key_results.append(kr)
    db.session.add(objective)
    db.session.commit()
    return objective


def _pdf_of(download) -> bytes:
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    return data


def test_a_viewer_downloads_the_last_quarter_report_from_the_dashboard(page, objective):
    sign_in_browser(page, ROLE_EMAILS[Role.VIEWER], TEST_PASSWORD)
    page.wait_for_selector("[data-testid=dashboard-quarter]")
    assert page.inner_text("[data-testid=dashboard-quarter]") == "FY20-21 Q3"
    button = page.locator("[data-testid=dashboard-download]")
    assert "FY20-21 Q2" in button.inner_text()
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "front-line-defenses-FY20-21-Q2.pdf"
    text = flat(" ".join(pages_text(_pdf_of(download))))
    assert "Quarterly report — FY20-21 Q2" in text


def test_a_viewer_picks_another_quarter_on_the_reports_page(page, objective):
    sign_in_browser(page, ROLE_EMAILS[Role.VIEWER], TEST_PASSWORD)
    page.wait_for_selector("[data-testid=dashboard-quarter]")
    page.goto("/reports")
    page.select_option("select[name=quarter]", "FY20-21 Q1")
    page.click("[data-testid=report-picker] button[type=submit]")
    page.wait_for_selector("text=Front Line Defenses · FY20-21 Q1")
    with page.expect_download() as info:
        page.click("[data-testid=download-report]")
    text = flat(" ".join(pages_text(_pdf_of(info.value))))
    assert "Quarterly report — FY20-21 Q1" in text
    assert "Planning not started" in text or "No key-result figures are available" in text
