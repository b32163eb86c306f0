from __future__ import annotations

import pytest

from app.models.user import Role
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD
from tests.e2e.conftest import open_account_menu, sign_in_browser

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "role, sees_admin",
    [(Role.ADMIN, True), (Role.SECURITY, False), (Role.MANAGER, False), (Role.VIEWER, False)],
)
def test_sign_in_shows_the_roles_navigation_and_sign_out(page, users, role, sees_admin):
    sign_in_browser(page, ROLE_EMAILS[role], TEST_PASSWORD)
    page.wait_for_selector("[data-testid=role-badge]")
    assert page.inner_text("[data-testid=role-badge]") == role.value
    assert page.locator("[data-testid=admin-menu]").count() == (1 if sees_admin else 0)
    open_account_menu(page)
    page.click("[data-testid=sign-out]")
    page.wait_for_url("**/login")
    assert "You have been signed out." in page.content()


def test_wrong_password_shows_the_message(page, users):
    sign_in_browser(page, ROLE_EMAILS[Role.VIEWER], "definitely-wrong")
    assert "do not match an active account" in page.inner_text("main")
    assert page.url.endswith("/login")


def test_empty_email_shows_the_error_next_to_the_field(page, users):
    sign_in_browser(page, "", "whatever")
    assert page.inner_text("[data-field-error=email]") == "Enter your email address."


def test_crafted_unknown_role_and_long_password_through_the_browser(page, users):
    page.goto("/login")
    # The field carries maxlength; remove it as a hand-crafted request would.
    page.evaluate(
        "() => document.querySelector('input[name=password]').removeAttribute('maxlength')"
    )
    page.fill("input[name=email]", ROLE_EMAILS[Role.VIEWER])
    page.fill("input[name=password]", "x" * 5000)
    page.click("input[type=submit]")
    assert "That password is too long." in page.inner_text("main")
    sign_in_browser(page, ROLE_EMAILS[Role.ADMIN], TEST_PASSWORD)
    page.goto("/admin/users/new")
    page.fill("input[name=email]", "crafted@test.example")
    page.fill("input[name=name]", "Crafted")
    page.fill("input[name=password]", "long-enough-password")
    # Craft the POST: give the role select an option the server never offered.
    page.evaluate(
        "() => { const o = document.createElement('option'); o.value = 'superuser';"
        " o.text = 'superuser'; const s = document.querySelector('select[name=role]');"
        " s.appendChild(o); s.value = 'superuser'; }"
    )
    page.click("input[type=submit]")
    assert "Not a valid choice" in page.inner_text("main")
    page.goto("/admin/users")
    assert "crafted@test.example" not in page.content()
