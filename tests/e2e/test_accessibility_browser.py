"""axe-core (bundled with axe-playwright-python, no network) finds no serious or critical
WCAG violation on any main page, for each role, on a desktop and on a phone."""

from __future__ import annotations

import pytest

from app.models.user import Role
from app.seed.users import DEMO_USERS
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD
from tests.e2e.conftest import main_pages, sign_in_browser

pytestmark = pytest.mark.e2e

DEMO_EMAIL = {role: email for email, _, role in DEMO_USERS}
# The rules of WCAG 2.0-2.2 A and AA, plus axe's best practices that the issue names.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    }
}


@pytest.fixture(scope="module")
def axe():
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    return axe_module.Axe()


def serious_violations(axe, page) -> list[str]:
    results = axe.run(page, options=AXE_OPTIONS)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            for node in violation["nodes"]:
                found.append(f"{violation['id']}: {node['html'][:120]}")
    return found


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_axe_finds_no_serious_violation_on_any_main_page(page, demo, axe, role):
    sign_in_browser(page, DEMO_EMAIL[role], TEST_PASSWORD)
    page.wait_for_selector("[data-testid=role-badge]")
    problems = []
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for path in main_pages(role):
            page.goto(path)
            page.wait_for_load_state("load")
            problems += [f"{path} at {width} px: {v}" for v in serious_violations(axe, page)]
    assert not problems, "\n".join(problems)


def test_a_form_error_is_tied_to_its_field_and_the_checker_sees_the_error_page(page, users, axe):
    sign_in_browser(page, ROLE_EMAILS[Role.SECURITY], TEST_PASSWORD)
    page.goto("/threats/new")
    page.fill("input[name=title]", "")
    page.click("input[type=submit][value=Save]")
    title = page.locator("input[name=title]")
    assert title.get_attribute("aria-invalid") == "true"
    described = title.get_attribute("aria-describedby").split()
    error_id = f"{title.get_attribute('id')}-error"
    assert error_id in described
    assert page.inner_text(f"#{error_id}") == "Give the threat a title."
    assert serious_violations(axe, page) == []


def test_a_broken_page_is_found(page, users, axe):
    """The checker itself catches what it must: white text on the orange 'High' colour."""
    sign_in_browser(page, ROLE_EMAILS[Role.VIEWER], TEST_PASSWORD)
    page.wait_for_selector("[data-testid=role-badge]")
    page.evaluate(
        """document.querySelector('main').insertAdjacentHTML('beforeend',
        '<span style="background:#fd7e14;color:#fff">High</span>')"""
    )
    assert any(v.startswith("color-contrast") for v in serious_violations(axe, page))
