"""On the demo, the register's figures stand beside Front Line Defenses KR2 and KR3,
and a change in the register moves the right KR's value in the right quarter only."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.okrs.figures import kr_table, objectives_of_year
from app.seed import load_demo
from tests.conftest import sign_in
from tests.okrs.helpers import read_kr_tables

pytest.importorskip("app.coverage.figures")


def needs_countermeasures() -> None:
    pytest.importorskip("app.countermeasures.figures")


@pytest.fixture
def demo(app, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", "2021-01-15")
    context = load_demo()
    db.session.commit()
    return context


def snapshot() -> dict:
    """Every computed value of every KR table of FY20-21, keyed by objective, KR, quarter."""
    values = {}
    for objective in objectives_of_year(2020):
        for row in kr_table(objective, 2020):
            values[(objective.title, row.code, "baseline")] = row.baseline_computed_text
            for cell in row.quarters:
                values[(objective.title, row.code, cell.label)] = cell.computed_text
    db.session.expire_all()
    return values


def changed(before: dict, after: dict) -> dict:
    return {key: (before[key], after[key]) for key in before if before[key] != after[key]}


def test_the_register_values_beside_kr2_and_kr3(app, demo):
    client = app.test_client()
    email = "viewer@frontline.example"
    sign_in(client, email, demo["passwords"][email])
    html = client.get("/okrs?year=FY20-21").get_data(as_text=True)
    table = read_kr_tables(html)["Front Line Defenses"]
    assert "8 solely responsible staff" in table["KR2"]["kr"]["baseline"]
    assert "0 of 4 positions filled" in table["KR2"]["kr"]["baseline"]
    assert "1 of 4 positions filled" in table["KR2"]["q2"]["register"]
    assert "0 of 4 positions filled" in table["KR2"]["q1"]["register"]
    assert table["KR1"]["q2"]["register"] == ""  # not linked
    assert table["KR2"]["q4"]["register"] == ""  # not started


def test_the_register_value_beside_kr3(app, demo):
    needs_countermeasures()
    client = app.test_client()
    email = "viewer@frontline.example"
    sign_in(client, email, demo["passwords"][email])
    html = client.get("/okrs?year=FY20-21").get_data(as_text=True)
    table = read_kr_tables(html)["Front Line Defenses"]
    assert table["KR3"]["q2"]["register"] == "register: 4 countermeasures deployed to date"
    assert table["KR3"]["q4"]["register"] == ""


def test_the_proposals_agree_with_the_written_q2_statuses(demo):
    fld = demo["objectives"]["Front Line Defenses"]
    rows = {row.code: row for row in kr_table(fld, 2020)}
    assert rows["KR2"].quarters[1].proposed == "25% filled, 4 SPOF positions in active hiring"
    assert rows["KR2"].quarters[0].proposed == "0% filled, 1 hiring process in final stages"
    assert rows["KR2"].progress == 25


def test_the_kr3_proposal_agrees_with_the_written_q2_status(demo):
    needs_countermeasures()
    fld = demo["objectives"]["Front Line Defenses"]
    rows = {row.code: row for row in kr_table(fld, 2020)}
    assert rows["KR3"].quarters[1].proposed == "4 countermeasures deployed"
    assert rows["KR3"].progress == 67


def test_a_responsibility_change_moves_kr2_in_its_quarter_only(demo):
    from app.models.systems import Responsibility, StaffMember, System

    before = snapshot()
    system = System(name="Zz temporary production system", in_production=True)
    person = StaffMember(name="Zz Temporary Owner")
    db.session.add_all([system, person])
    db.session.flush()
    # Sole owner for part of Q2 only: counts on Q2's last day, not at Q1's end nor today.
    db.session.add(
        Responsibility(
            staff_member_id=person.id,
            system_id=system.id,
            since=date(2020, 11, 1),
            until=date(2020, 12, 31),
        )
    )
    db.session.commit()
    after = snapshot()
    assert list(changed(before, after)) == [("Front Line Defenses", "KR2", "Q2")]
    old, new = changed(before, after)[("Front Line Defenses", "KR2", "Q2")]
    count = int(old.split(" · ")[1].split()[0])
    assert new.endswith(f"{count + 1} solely responsible staff")


def test_deploying_a_countermeasure_moves_kr3_in_its_quarter_only(demo):
    needs_countermeasures()
    from app.models.countermeasures import Countermeasure, CountermeasureStatus

    before = snapshot()
    db.session.add(
        Countermeasure(
            title="Zz WAF rule for login floods",
            status=CountermeasureStatus.DEPLOYED,
            deployed_on=date(2021, 1, 5),  # in Q3, before the demo's today
        )
    )
    db.session.commit()
    after = snapshot()
    key = ("Front Line Defenses", "KR3", "Q3")
    assert list(changed(before, after)) == [key]
    assert int(after[key].split()[0]) == int(before[key].split()[0]) + 1
