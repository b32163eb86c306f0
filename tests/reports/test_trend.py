"""The trend page and the dashboard panel: the report's own figures at each quarter end."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from app import fiscal
from app.domain.quarters import parse_quarter
from app.extensions import db
from app.models.user import User
from app.reports.quarter_report import gather_quarter_report
from app.reports.trend import Chart, Series, quarter_ends
from app.seed import load_demo
from tests.conftest import TEST_PASSWORD, sign_in


@pytest.fixture
def viewer(app):
    previous = app.config.get("FRONTLINE_TODAY")
    app.config["FRONTLINE_TODAY"] = "2021-01-15"
    load_demo()
    for user in db.session.scalars(select(User)):
        user.set_password(TEST_PASSWORD)
    db.session.commit()
    client = app.test_client()
    sign_in(client, "viewer@frontline.example")
    yield client
    app.config["FRONTLINE_TODAY"] = previous


def _table_rows(html: str, testid: str) -> dict[str, list[int]]:
    figure = html[html.index(f'data-testid="{testid}"') :]
    figure = figure[: figure.index("</figure>")]
    body = figure[figure.index("<tbody>") : figure.index("</tbody>")]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        label = re.search(r"<th[^>]*>(.*?)</th>", row).group(1)
        rows[label] = [int(v) for v in re.findall(r"<td[^>]*>(\d+)</td>", row)]
    return rows


def test_the_trend_page_shows_the_reports_figures_at_each_quarter_end(app, viewer):
    html = viewer.get("/trend").get_data(as_text=True)
    levels = _table_rows(html, "trend-chart-1")
    spof = _table_rows(html, "trend-chart-2")
    deployed = _table_rows(html, "trend-chart-3")
    # Quarters that have ended by 2021-01-15, over FY19-20 and FY20-21.
    assert list(spof) == [
        "FY19-20 Q1", "FY19-20 Q2", "FY19-20 Q3", "FY19-20 Q4", "FY20-21 Q1", "FY20-21 Q2",
    ]  # fmt: skip
    with app.test_request_context():
        for label in ("FY20-21 Q1", "FY20-21 Q2"):
            quarter = parse_quarter(label, fiscal.start_month())
            report = gather_quarter_report(None, quarter, date(2021, 1, 15))
            hm = report.risk.residual
            by_level = {}
            for likelihood in range(1, hm.matrix.max_likelihood + 1):
                for impact in range(1, hm.matrix.max_impact + 1):
                    level = hm.level(likelihood, impact).label
                    by_level[level] = by_level.get(level, 0) + hm.count(likelihood, impact)
            assert levels[label] == [by_level[lvl.label] for lvl in hm.matrix.levels]
            assert spof[label] == [report.coverage.spof_staff, report.coverage.uncovered]
            assert deployed[label] == [report.countermeasures.deployed_in_quarter]
    assert 'role="img"' in html and "Quarter end" in html


def test_the_dashboard_has_a_trend_panel_and_the_page_refuses_odd_periods(viewer):
    html = viewer.get("/").get_data(as_text=True)
    assert 'data-testid="dashboard-trend-levels"' in html
    assert 'href="/trend"' in html
    assert viewer.get("/trend?years=9").status_code == 404
    assert viewer.get("/trend?years=1").status_code == 200


def test_quarter_ends_stop_at_today_and_a_chart_scales_to_whole_steps():
    ends = quarter_ends([2020], 7, date(2021, 1, 15))
    assert [q.label for q in ends] == ["FY20-21 Q1", "FY20-21 Q2"]
    chart = Chart("t", "y", ["a", "b"], [Series("s", [0, 7], "low")])
    assert chart.y_ticks == [0, 2, 4, 6, 8]
    assert chart.y(0) == chart.top + chart.plot_height and chart.y(8) == chart.top
