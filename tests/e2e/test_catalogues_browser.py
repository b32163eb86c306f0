"""The catalogue pages in a browser: the matrix's cells lead to the records, and axe finds
no serious violation on the catalogue pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.catalogues import Library, LibraryKind
from app.models.user import Role
from app.seed.users import DEMO_USERS
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import sign_in_browser
from tests.e2e.test_accessibility_browser import serious_violations

pytestmark = pytest.mark.e2e

DEMO_EMAIL = {role: email for email, _, role in DEMO_USERS}


@pytest.fixture(scope="module")
def axe():
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    return axe_module.Axe()


def test_a_matrix_cell_leads_to_the_threats_and_the_pages_pass_axe(page, demo, axe):
    attack = db.session.scalar(select(Library.id).where(Library.kind == LibraryKind.ATTACK))
    annex = db.session.scalar(select(Library.id).where(Library.name.like("ISO%")))
    sign_in_browser(page, DEMO_EMAIL[Role.SECURITY], TEST_PASSWORD)
    page.wait_for_selector("[data-testid=role-badge]")
    page.click("[data-testid=threats-menu]")
    page.click("#main-nav >> text=ATT&CK matrix")
    page.wait_for_selector("[data-testid=attack-matrix]")
    page.select_option("#quarter", "FY20-21 Q2")
    page.click("[data-testid=quarter-picker] >> text=Show")
    page.wait_for_selector("[data-testid=as-of] >> text=2020-12-31")
    problems = [f"matrix: {v}" for v in serious_violations(axe, page)]
    page.click("[data-ref=T1486] [data-testid=cell-threats]")
    page.wait_for_selector("[data-testid=technique-filter]")
    assert "Ransomware on internal infrastructure" in page.inner_text("main")
    page.click("text=Ransomware on internal infrastructure")
    page.wait_for_selector("[data-testid=catalogue-mappings]")
    assert "T1486" in page.inner_text("[data-testid=catalogue-mappings]")
    for path in (
        "/catalogues",
        f"/catalogues/{attack}",
        f"/catalogues/{annex}/coverage",
        "/threats/1/mappings",
        f"/countermeasures/1/mappings?library={annex}",
    ):
        page.goto(path)
        page.wait_for_load_state("load")
        problems += [f"{path}: {v}" for v in serious_violations(axe, page)]
    assert not problems, "\n".join(problems)
    # The entry picker narrows to the catalogue chosen first.
    page.goto("/countermeasures/1/mappings")
    page.select_option("#choose-library", str(annex))
    page.click("[data-testid=catalogue-choice] >> text=Show its entries")
    page.wait_for_selector("[data-testid=chosen-library] >> text=ISO")
    offered = page.eval_on_selector_all("#catalogue-entries option", "os => os.map(o => o.value)")
    assert offered and all(value.startswith("A.") for value in offered)
