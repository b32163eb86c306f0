"""The demo tells KR2's story: the figures the deck reports come out of the register."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.coverage import figures, queries
from app.extensions import db
from app.models.systems import PositionStatus, Responsibility, System
from app.models.user import Role
from app.seed import load_demo
from tests.conftest import sign_in
from tests.coverage.conftest import TODAY

START, END_Q1, END_Q2 = date(2020, 7, 1), date(2020, 9, 30), date(2020, 12, 31)


@pytest.fixture
def demo():
    return load_demo()


def test_baseline_has_8_solely_responsible_staff_and_nothing_uncovered(demo):
    c = figures.coverage_on(START)
    assert figures.spof_staff_count(START) == 8
    assert len({person.id for person, _ in c.sole_responsible}) == 8
    assert figures.uncovered_systems_count(START) == 0
    assert figures.positions_filled(START) == 0


def test_end_of_q1_one_hiring_process_in_final_stages(demo):
    assert figures.spof_staff_count(END_Q1) == 8
    assert figures.positions_in_final_stages(END_Q1) == 1
    assert figures.positions_filled(END_Q1) == 0
    pipeline = figures.pipeline_on(END_Q1)
    assert pipeline[PositionStatus.FILLED] == 0
    assert pipeline[PositionStatus.PLANNED] + pipeline[PositionStatus.ACTIVE_HIRING] == 4


def test_end_of_q2_one_of_four_filled_and_four_in_active_hiring(demo):
    assert figures.positions_filled(END_Q2) == 1
    assert figures.spof_positions_goal() == 4
    summary = figures.hiring_summary(END_Q2)
    assert (summary["filled"], summary["goal"], summary["filled_percent"]) == (1, 4, 25)
    assert figures.positions_in_active_hiring(END_Q2) == 4
    assert figures.positions_in_final_stages(END_Q2) == 0
    # The hire took over MediaWiki and Kubernetes: one fewer person solely responsible.
    assert figures.spof_staff_count(END_Q2) == 7
    hire = demo["staff"]["Priya Raman"]
    held = db.session.scalars(
        select(Responsibility).where(Responsibility.staff_member_id == hire.id)
    ).all()
    assert {r.system.name for r in held} == {
        "MediaWiki application servers",
        "Kubernetes production clusters",
    }
    assert all(r.since == date(2020, 11, 16) for r in held)


def test_a_departure_in_q3_leaves_thumbor_uncovered(demo):
    c = figures.coverage_on(TODAY)
    assert [s.name for s in c.uncovered_systems] == ["Thumbor image scaling"]
    trend = figures.coverage_trend_for_fiscal_year(2020)
    assert [(q.label, *rest) for q, *rest in trend] == [
        ("FY20-21 Q1", 8, 9, 0),
        ("FY20-21 Q2", 7, 7, 0),
        ("FY20-21 Q3", 6, 6, 1),
        ("FY20-21 Q4", 6, 6, 1),
    ]


def test_demo_systems_and_staff_are_in_the_context(demo):
    assert len(demo["systems"]) >= 23
    assert "Kubernetes production clusters" in demo["systems"]
    assert demo["systems"]["Ganglia monitoring"].retired_on is not None
    teams = {p.team for p in demo["staff"].values()}
    assert len(demo["staff"]) >= 25 and len(teams) == 8


def test_sql_coverage_states_agree_with_the_domain(demo):
    for day in (START, END_Q1, END_Q2, TODAY):
        c = figures.coverage_on(day)
        expected = {entry.system.id: entry.state for entry in c.systems}
        db.session.expire_all()
        systems = db.session.scalars(
            select(System)
            .options(queries.counted_on(day))
            .execution_options(populate_existing=True)
        ).all()
        holders = queries.holders_of([s.id for s in systems], day)
        got = {
            s.id: queries.state_for(s, len(holders[s.id]))
            for s in systems
            if queries.state_for(s, len(holders[s.id]))
        }
        assert got == expected, day


def _figures_on_page(client, query):
    html = client.get("/coverage", query_string=query).get_data(as_text=True)
    import re

    def figure(testid):
        return re.search(rf'data-testid="{testid}">\s*(\d+)', html).group(1)

    return html, figure


def test_coverage_page_for_q1_and_q2_matches_the_deck(demo, client):
    sign_in(client, "viewer@frontline.example", demo["passwords"]["viewer@frontline.example"])
    html, figure = _figures_on_page(client, {"quarter": "FY20-21 Q1"})
    assert "2020-09-30" in html and "end of FY20-21 Q1" in html
    assert figure("spof-staff") == "8"
    assert "1 in final stages" in html and figure("positions-filled") == "0"
    html, figure = _figures_on_page(client, {"quarter": "FY20-21 Q2"})
    assert figure("spof-staff") == "7"
    assert figure("positions-filled") == "1"
    assert "(25%)" in html and "4 in active hiring" in html
    html, figure = _figures_on_page(client, {"date": "2020-07-01"})
    assert figure("spof-staff") == "8" and figure("uncovered") == "0"
    html, figure = _figures_on_page(client, {})
    assert figure("uncovered") == "1" and "Thumbor image scaling" in html


def test_moving_an_until_date_changes_only_the_right_quarters(demo, client_as):
    # Ending Cole's Prometheus duty on 2020-10-31 leaves Keith alone on it from Q2 on.
    cole = demo["staff"]["Cole Whitaker"]
    prometheus = demo["systems"]["Prometheus monitoring"]
    r = db.session.scalar(
        select(Responsibility).where(
            Responsibility.staff_member_id == cole.id, Responsibility.system_id == prometheus.id
        )
    )
    before = [row[1:] for row in figures.coverage_trend_for_fiscal_year(2020)]
    client = client_as(Role.MANAGER)
    response = client.post(
        f"/responsibilities/{r.id}/edit",
        data={
            "version": r.version,
            "kind": "PRIMARY",
            "since": r.since.isoformat(),
            "until": "2020-10-31",
            "confirm_impact": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    after = [row[1:] for row in figures.coverage_trend_for_fiscal_year(2020)]
    assert after[0] == before[0]  # Q1 untouched
    for quarter in (1, 2, 3):  # Q2 onwards: Keith is now sole on Prometheus
        assert after[quarter][0] == before[quarter][0] + 1
        assert after[quarter][1] == before[quarter][1] + 1


def test_coverage_gaps_counted_in_sql_equal_the_domain_coverage(demo):
    days = [START, END_Q1, END_Q2, TODAY, date(2019, 12, 31), date(2021, 6, 30)]
    gaps = figures.coverage_gaps_on_dates(days)
    for day in days:
        c, g = figures.coverage_on(day), gaps[day]
        assert [s.id for s in g.spof_systems] == [s.id for s in c.spof_systems], day
        assert [s.name for s in g.uncovered_systems] == [s.name for s in c.uncovered_systems], day
        assert [(p, [s.id for s in owned]) for p, owned in g.sole_responsible] == [
            (p, [s.id for s in owned]) for p, owned in c.sole_responsible
        ], day
        assert figures.spof_staff_count(day) == c.spof_staff_count
        assert figures.spof_system_count(day) == c.spof_system_count
        assert figures.uncovered_systems_count(day) == c.uncovered_count


def test_coverage_gaps_of_many_days_equal_those_of_each_day(demo):
    # More days than one query counts: the answer must not depend on how they are split.
    days = [date(2019, 12, 31) + timedelta(days=45 * n) for n in range(19)]
    gaps = figures.coverage_gaps_on_dates(days)
    assert sorted(gaps) == days
    counts = set()
    for day in days:
        c = figures.coverage_on(day)
        assert [s.id for s in gaps[day].spof_systems] == [s.id for s in c.spof_systems], day
        assert [s.id for s in gaps[day].uncovered_systems] == [s.id for s in c.uncovered_systems], (
            day
        )
        counts.add((c.spof_system_count, c.uncovered_count))
    assert len(counts) > 1  # the days differ, so a mix-up between them would show
