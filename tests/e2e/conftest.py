"""Browser tests: a live server in a thread, driven by headless Chromium via Playwright."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _browser_missing_reason() -> str | None:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        return f"Chromium not found at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _browser_missing_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"Browser tests must run under CI, but {reason}.")
        print(
            f"\n*** SKIPPING BROWSER TESTS: {reason} (run `make test` as root to install it) ***\n"
        )
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in_browser(page, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")


def open_account_menu(page) -> None:
    """Open the account dropdown once Bootstrap's script has loaded (a busy machine is slow)."""
    page.wait_for_load_state("load")
    sign_out = page.locator("[data-testid=sign-out]")
    for _ in range(3):
        page.click("[data-testid=account-menu]")
        try:
            sign_out.wait_for(state="visible", timeout=3_000)
            return
        except Exception:  # noqa: BLE001 - retried below, then the click fails loudly
            page.wait_for_timeout(500)


def main_pages(role) -> list[str]:
    """The pages a role reaches from the menu, one detail page of each kind, and its forms."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models.countermeasures import Countermeasure
    from app.models.okrs import Objective
    from app.models.systems import Position, StaffMember, System
    from app.models.threats import Threat
    from app.models.user import Role

    def first(model):
        return db.session.scalar(select(model.id).order_by(model.id).limit(1))

    pages = [
        "/",
        "/threats",
        "/heatmap",
        "/threats/reviews",
        "/countermeasures",
        "/quarters",
        "/coverage",
        "/systems",
        "/staff",
        "/positions",
        "/okrs",
        "/reports",
        "/trend",
        f"/threats/{first(Threat)}",
        f"/countermeasures/{first(Countermeasure)}",
        f"/systems/{first(System)}",
        f"/staff/{first(StaffMember)}",
        f"/positions/{first(Position)}",
        f"/okrs/{first(Objective)}",
        "/no-such-page",
    ]
    if role in (Role.SECURITY, Role.ADMIN):
        pages += ["/threats/new", "/countermeasures/new", "/feeds"]
    if role in (Role.MANAGER, Role.ADMIN):
        pages += ["/staff/new", "/systems/new", "/positions/new"]
    if role is Role.ADMIN:
        pages += ["/admin/users", "/admin/audit", "/admin/settings", "/threats/categories"]
    return pages
