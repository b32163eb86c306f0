"""The demo's FY20-21 OKRs read as the quarterly review deck does, cell for cell."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.okrs import Objective
from app.seed import load_demo
from tests.conftest import sign_in
from tests.okrs.helpers import read_kr_tables, squash

DECK = Path("/work/shared/seeds")

# The deck's Front Line Defenses table (Key Results | Goal | Q1 | Q2 | Q3 | Q4).
FRONT_LINE_DEFENSES = {
    "KR1": (
        "KR1: We will plan (by end of Q3), build (Q4) a second EU data center, to better serve "
        "EMEA users (by end of FY21/22 Q1). Baseline: one EU data center",
        "Two EU data centers",
        "1 EU data center (planning not started yet)",
        "1 EU data center Shortlist of cities prepared",
    ),
    "KR2": (
        "KR2: The number of staff members solely responsible for a system or piece of software "
        "in production is reduced by 50%, from 8 to 4, by end of Q4. Baseline: 0 SPoF positions "
        "filled",
        "Hire for 4 SPoF positions",
        "0% filled 1 hiring process in final stages",
        "25% filled 4 SPOF positions in active hiring",
    ),
    "KR3": (
        "KR3: Implement a threat identification and risk treatment program (Q1) and deploy "
        "effective countermeasures for the top 2 threats and risks per quarter thereafter. "
        "Baseline: Partial risk management policy and 0 threat intelligence feeds.",
        "6 threat and risk countermeasures deployed",
        "Completed Q1 items",
        "4 countermeasures deployed",
    ),
}

DEPARTMENT_OBJECTIVES = [
    "Content Integrity",
    "Evolutionary Architecture",
    "Front Line Defenses",
    "Technical Community Building",
    "Production Quality",
]


@pytest.fixture
def demo(app, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", "2021-01-15")
    context = load_demo()
    db.session.commit()
    return context


def viewer(app, context):
    client = app.test_client()
    email = "viewer@frontline.example"
    response = sign_in(client, email, context["passwords"][email])
    assert response.status_code == 302
    return client


def test_front_line_defenses_reads_as_the_deck(app, demo):
    html = viewer(app, demo).get("/okrs?year=FY20-21").get_data(as_text=True)
    table = read_kr_tables(html)["Front Line Defenses"]
    assert list(table) == ["KR1", "KR2", "KR3"]
    for code, (key_result, goal, q1, q2) in FRONT_LINE_DEFENSES.items():
        row = table[code]
        assert row["kr"]["deck"] == key_result
        assert row["goal"]["deck"] == goal
        assert row["q1"]["deck"] == q1
        assert row["q2"]["deck"] == q2
        assert row["q3"]["deck"] == "-"
        assert row["q4"]["deck"] == "-"


def test_the_deck_text_is_the_seed_decks_own(demo):
    """Every FLD cell is found in the deck file (modulo its extraction's whitespace)."""
    deck = squash(" ".join(p.read_text() for p in DECK.glob("*.txt")))
    if not deck:
        pytest.skip("the seed deck is not on this machine")
    for cells in FRONT_LINE_DEFENSES.values():
        for cell in cells:
            assert squash(cell) in deck, cell


def test_every_department_objective_and_key_result_is_loaded(app, demo):
    objectives = db.session.scalars(
        select(Objective).where(Objective.fiscal_year == 2020).order_by(Objective.position)
    ).all()
    titles = [o.title for o in objectives]
    assert titles[:5] == DEPARTMENT_OBJECTIVES
    assert all(len(o.key_results) == 3 for o in objectives[:5])
    assert sum(len(o.key_results) for o in objectives[5:]) == 6  # the MTP metrics
    html = viewer(app, demo).get("/okrs?year=FY20-21").get_data(as_text=True)
    tables = read_kr_tables(html)
    assert set(DEPARTMENT_OBJECTIVES) <= set(tables)
    pq = tables["Production Quality"]["KR3"]
    assert pq["q2"]["deck"] == "GitLab consultation completed; 68% of traffic"
    assert tables["Content Integrity"]["KR2"]["q2"]["deck"] == "0"
    assert tables["Evolutionary Architecture"]["KR1"]["q1"]["deck"] == (
        "37.5% at Level 1 62.5% at Level 2"
    )
    assert re.search(r"Target quarter for completion: Q1 FY21-22", html)


def test_front_line_defenses_links_kr2_and_kr3_to_the_register(demo):
    fld = demo["objectives"]["Front Line Defenses"]
    kr1, kr2, kr3 = fld.key_results
    assert (kr1.metric, kr2.metric, kr3.metric) == (
        None,
        "spof_positions_filled",
        "countermeasures_deployed_to_date",
    )
    assert (kr2.goal_value, kr2.baseline_value, kr2.goal_unit) == (4, 0, "positions")
    assert kr3.goal_value == 6
    assert {s.author.email for s in kr2.statuses} == {"manager@frontline.example"}
