"""Single sign-on in a real browser: Frontline's sign-in page, the provider's form, and back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.user import Role, User
from tests.auth.sso_helpers import configured_for
from tests.oidc_provider import PASSWORD, LoopbackProvider

pytestmark = pytest.mark.e2e


@pytest.fixture
def provider(app):
    loopback = LoopbackProvider().start()
    with configured_for(app, loopback) as configured:
        yield configured
    loopback.stop()


def test_sign_in_with_the_provider_through_the_browser(page, provider, live_server):
    provider.add("nina", "nina@corp.example", ["security-team"], name="Nina Patel")
    page.goto("/login")
    page.click("[data-testid=sso-button]")
    page.wait_for_url(f"{provider.issuer}/authorize?*")
    page.fill("#username", "nina")
    page.fill("#password", PASSWORD)
    page.click("#provider-sign-in")
    page.wait_for_url(f"{live_server}/")
    assert page.inner_text("[data-testid=role-badge]") == "security"
    assert "Nina Patel" in page.inner_text("[data-testid=account-menu]")
    nina = db.session.scalar(select(User).where(User.email == "nina@corp.example"))
    assert nina is not None and nina.role == Role.SECURITY
