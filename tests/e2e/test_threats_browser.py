from __future__ import annotations

import pytest

from app.extensions import db
from app.models.systems import System
from app.models.user import Role
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD
from tests.e2e.conftest import sign_in_browser

pytestmark = pytest.mark.e2e


def _cell_count(page, likelihood: int, impact: int) -> int:
    return int(page.get_attribute(f"[data-cell='{likelihood}-{impact}']", "data-count"))


def test_security_logs_scores_rescores_and_archives_a_threat(page, users):
    systems = [System(name=name, in_production=True) for name in ("Edge caching", "DNS", "Swift")]
    db.session.add_all(systems)
    db.session.commit()
    sign_in_browser(page, ROLE_EMAILS[Role.SECURITY], TEST_PASSWORD)
    page.wait_for_selector("[data-testid=role-badge]")

    page.goto("/threats/new")
    page.fill("input[name=title]", "Cache-busting flood on the edge")
    page.fill("textarea[name=description]", "Random query strings bypass the caches.")
    # Affected systems: a checkbox list with a filter box (no Ctrl-click).
    page.fill("[data-testid=multi-pick-system_ids] input[type=search]", "edge")
    assert not page.get_by_label("Swift", exact=True).is_visible()
    page.get_by_label("Edge caching", exact=True).check()
    page.fill("[data-testid=multi-pick-system_ids] input[type=search]", "")
    page.get_by_label("DNS", exact=True).check()
    page.select_option("select[name=inherent_likelihood]", "5")
    page.select_option("select[name=inherent_impact]", "5")
    page.select_option("select[name=residual_likelihood]", "3")
    page.select_option("select[name=residual_impact]", "3")
    page.click("input[type=submit][value=Save]")
    page.wait_for_selector("[data-testid=threat-title]")
    assert page.inner_text("[data-testid=threat-title]") == "Cache-busting flood on the edge"
    linked = page.inner_text("[data-testid=threat-systems]")
    assert "Edge caching" in linked and "DNS" in linked and "Swift" not in linked
    threat_url = page.url

    page.click("[data-testid=threats-menu]")
    page.click("#main-nav >> text=Heat map")
    page.wait_for_selector("[data-testid=heatmap]")
    assert _cell_count(page, 3, 3) == 1
    assert _cell_count(page, 4, 4) == 0

    page.goto(threat_url)
    page.click("text=Edit or rescore")
    page.select_option("select[name=residual_likelihood]", "4")
    page.select_option("select[name=residual_impact]", "4")
    page.fill("input[name=score_note]", "Exploit published")
    page.click("input[type=submit][value=Save]")
    page.wait_for_selector("[data-testid=score-history]")
    assert "Exploit published" in page.inner_text("[data-testid=score-history]")

    page.goto("/heatmap")
    assert _cell_count(page, 3, 3) == 0
    assert _cell_count(page, 4, 4) == 1
    page.click("[data-cell='4-4'] a")
    page.wait_for_selector("[data-testid=cell-filter]")
    assert "Cache-busting flood on the edge" in page.inner_text("[data-testid=threat-table]")

    page.goto(threat_url)
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Archive')")
    page.wait_for_url("**/threats")
    assert "archived" in page.inner_text("main")
    assert "Cache-busting flood on the edge" not in page.inner_text("[data-testid=threat-table]")
    page.goto("/heatmap")
    assert _cell_count(page, 4, 4) == 0
