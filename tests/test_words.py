"""The words the pages use: plurals, KR labels from the objective, one count per concept."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.domain.words import plural
from app.extensions import db
from app.models.okrs import KeyResult, Objective
from tests.conftest import sign_in
from tests.reports.pdf_text import flat, pages_text


@pytest.fixture
def viewer(app, demo):
    client = app.test_client()
    sign_in(client, "viewer@frontline.example")
    return client


@pytest.mark.parametrize(
    "count, singular, expected",
    [
        (1, "production system", "1 production system"),
        (2, "production system", "2 production systems"),
        (1, "staff member", "1 staff member"),
        (2, "staff member", "2 staff members"),
        (0, "threat", "0 threats"),
        (2, "policy", "2 policies"),
        (2, "process", "2 processes"),
    ],
)
def test_plural_at_one_and_two(count, singular, expected):
    assert plural(count, singular) == expected


def test_plural_without_the_count_and_with_an_irregular_form():
    assert plural(1, "person", "people", with_count=False) == "person"
    assert plural(2, "person", "people") == "2 people"


def test_the_filter_renders_in_a_page(app):
    with app.test_request_context():
        template = app.jinja_env.from_string("{{ n | plural('staff member') }}")
        assert template.render(n=1) == "1 staff member"
        assert template.render(n=2) == "2 staff members"


def _coverage_words(client) -> str:
    html = client.get("/coverage?date=2021-01-15").get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_spof_figures_are_labelled_by_the_kr_that_uses_them(viewer):
    words = _coverage_words(viewer)
    # In the demo KR2 is measured by the SPOF positions filled, not by the staff count.
    assert re.search(r"SPOF positions filled \(\d+%\) \(KR2\)", words)
    assert "solely responsible for a production system (KR" not in words
    kr2 = db.session.scalar(select(KeyResult).where(KeyResult.metric == "spof_positions_filled"))
    kr2.code, kr2.metric = "KR7", "spof_staff"
    db.session.commit()
    words = _coverage_words(viewer)
    assert "solely responsible for a production system (KR7)" in words
    assert "(KR2)" not in words


def _count(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not found"
    return int(found.group(1))


def test_dashboard_register_and_report_count_the_same_threats_in_the_register(viewer):
    text = lambda html: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))  # noqa: E731
    dashboard = text(viewer.get("/").get_data(as_text=True))
    on_dashboard = _count(r"(\d+) open threats? in the register", dashboard)
    register = text(viewer.get("/threats").get_data(as_text=True))
    on_register = _count(r"(\d+) open threats? in the register", register)
    # The objective whose key results read the register: its report has the risk section.
    objective = db.session.scalar(
        select(Objective).where(
            Objective.fiscal_year == 2020, Objective.title == "Front Line Defenses"
        )
    )
    pdf = viewer.get(
        "/reports/download", query_string={"objective": objective.id, "quarter": "FY20-21 Q3"}
    )
    assert pdf.status_code == 200
    report = flat(" ".join(pages_text(pdf.data)))
    in_report = _count(r"(\d+) (?:open )?threats? in the register", report)
    assert on_dashboard == on_register == in_report
    # The register lists closed threats too: its own list is longer, and says so.
    assert "the list also keeps closed threats" in register


def test_kr_progress_is_said_as_the_kr_measures_it(viewer):
    html = viewer.get("/okrs").get_data(as_text=True)
    assert "1 of 2 EU data centers, from a baseline of 1" in html
    assert "EU data centers (0%)" not in html


def test_the_dashboard_says_overdue_as_the_report_does(viewer):
    html = viewer.get("/").get_data(as_text=True)
    risk = html[html.index('data-testid="dashboard-risk"') :]
    risk = risk[: risk.index("</section>")]
    words = re.sub(r"<[^>]+>", " ", risk)
    assert "Overdue reviews" in words and "due" not in words.replace("Overdue", "")


def test_the_404_page_speaks_the_apps_words_and_offers_a_way_forward(viewer):
    response = viewer.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and "There is no page at this address" in html
    assert "The requested URL was not found" not in html
    forward = html[html.index('data-testid="way-forward"') :]
    assert 'href="/threats"' in forward and 'href="/"' in forward
    # A page the app refuses to find keeps its own reason.
    missing = viewer.get("/threats/999999").get_data(as_text=True)
    assert "Page not found" in missing and "There is no page at this address" not in missing
