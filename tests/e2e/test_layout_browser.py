"""Every main page fits the screen: no sideways scrolling at desktop and phone widths, the
account menu (and Sign out) reachable everywhere, long words wrapped, a skip link first."""

from __future__ import annotations

import pytest

from app.models.user import Role
from app.seed.users import DEMO_USERS
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD
from tests.e2e.conftest import main_pages, open_account_menu, sign_in_browser

pytestmark = pytest.mark.e2e

WIDTHS = (1024, 1280, 390)
DEMO_EMAIL = {role: email for email, _, role in DEMO_USERS}


def _sideways(page) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate(
        "Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)"
    )


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_no_main_page_scrolls_sideways_and_sign_out_is_reachable(page, demo, role):
    sign_in_browser(page, DEMO_EMAIL[role], TEST_PASSWORD)
    page.wait_for_selector("[data-testid=role-badge]")
    pages = main_pages(role)
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        for path in pages:
            page.goto(path)
            extra = _sideways(page)
            if extra:
                problems.append(f"{path} at {width} px scrolls {extra} px sideways")
            box = page.locator("[data-testid=account-menu]").bounding_box()
            if not box or box["x"] < 0 or box["x"] + box["width"] > width:
                problems.append(f"{path} at {width} px: the account menu is off screen ({box})")
        page.goto("/")
        open_account_menu(page)
        box = page.locator("[data-testid=sign-out]").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        page.keyboard.press("Escape")
    assert not problems, "\n".join(problems)
    page.click("[data-testid=account-menu]")
    page.click("[data-testid=sign-out]")
    page.wait_for_url("**/login")


def test_the_menu_collapses_on_a_phone_and_opens_its_groups(page, users):
    page.set_viewport_size({"width": 320, "height": 700})
    sign_in_browser(page, ROLE_EMAILS[Role.ADMIN], TEST_PASSWORD)
    page.wait_for_load_state("load")
    assert not page.is_visible("[data-testid=threats-menu]")
    assert page.is_visible("[data-testid=account-menu]")
    page.click("[data-testid=menu-toggle]")
    page.click("[data-testid=threats-menu]")
    page.click("#main-nav >> text=Heat map")
    page.wait_for_selector("[data-testid=heatmap]")
    # Measured once the stylesheets have loaded: a layout forced before then has no CSS.
    page.wait_for_load_state("load")
    assert _sideways(page) == 0


def test_a_long_unbroken_title_wraps_in_the_message_and_the_page(page, users):
    title = "X" * 200
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in_browser(page, ROLE_EMAILS[Role.SECURITY], TEST_PASSWORD)
    page.goto("/threats/new")
    page.fill("input[name=title]", title)
    page.click("input[type=submit][value=Save]")
    page.wait_for_selector("[data-testid=threat-title]")
    page.wait_for_load_state("load")
    assert title in page.inner_text(".alert")
    assert _sideways(page) == 0
    page.goto("/threats")
    assert _sideways(page) == 0


def test_the_skip_link_is_the_first_stop_and_moves_to_the_content(page, users):
    sign_in_browser(page, ROLE_EMAILS[Role.VIEWER], TEST_PASSWORD)
    page.wait_for_selector("[data-testid=role-badge]")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    assert page.is_visible("text=Skip to main content")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
