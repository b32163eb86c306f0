"""Forms in a real browser: checkbox lists with a filter, live score preview, ISO dates,
and Back + Save again leaving one record."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.systems import System
from app.models.threats import Threat
from app.models.user import Role
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD
from tests.e2e.conftest import sign_in_browser

pytestmark = pytest.mark.e2e


def _threats_titled(title: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Threat).where(Threat.title == title))


def test_back_and_save_again_leaves_one_record(page, users):
    sign_in_browser(page, ROLE_EMAILS[Role.SECURITY], TEST_PASSWORD)
    page.wait_for_selector("[data-testid=role-badge]")
    page.goto("/threats/new")
    page.fill("input[name=title]", "Leaked deploy key")
    page.click("input[type=submit][value=Save]")
    page.wait_for_selector("[data-testid=threat-title]")
    saved_url = page.url
    assert _threats_titled("Leaked deploy key") == 1

    page.go_back()
    page.wait_for_selector("input[name=title]")
    if not page.input_value("input[name=title]"):
        # A browser that reloads the form instead of restoring it: the person types again.
        page.fill("input[name=title]", "Leaked deploy key")
    page.click("input[type=submit][value=Save]")
    page.wait_for_load_state("load")
    assert _threats_titled("Leaked deploy key") == 1
    assert page.url == saved_url
    assert "already saved" in page.inner_text(".alert")


def test_the_systems_list_filters_and_the_score_preview_follows_the_choices(page, users):
    db.session.add_all(
        [System(name=name, in_production=True) for name in ("Edge caching", "DNS", "Swift")]
    )
    db.session.commit()
    sign_in_browser(page, ROLE_EMAILS[Role.SECURITY], TEST_PASSWORD)
    page.wait_for_selector("[data-testid=role-badge]")
    page.goto("/threats/new")
    pick = page.locator("[data-testid=multi-pick-system_ids]")
    pick.locator("input[type=search]").fill("sw")
    assert page.get_by_label("Swift", exact=True).is_visible()
    assert not page.get_by_label("DNS", exact=True).is_visible()
    page.get_by_label("Swift", exact=True).check()
    assert "1 selected" in pick.inner_text()

    page.select_option("select[name=residual_likelihood]", "4")
    page.select_option("select[name=residual_impact]", "4")
    assert page.inner_text("[data-testid=residual-preview]") == "Score 16 · Critical"
    page.select_option("select[name=residual_impact]", "2")
    assert page.inner_text("[data-testid=residual-preview]") == "Score 8 · Medium"

    identified = page.locator("input[name=identified_on]")
    assert identified.get_attribute("placeholder") == "YYYY-MM-DD"
    assert identified.get_attribute("type") == "text"

    page.fill("input[name=title]", "Object storage wiped")
    page.click("input[type=submit][value=Save]")
    page.wait_for_selector("[data-testid=threat-title]")
    assert page.inner_text("[data-testid=threat-systems]").strip() == "Swift"
