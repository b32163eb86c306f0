"""OKR business rules: what is written, and what bad input is refused with."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditEntry
from app.models.okrs import GoalDirection, KeyResult, KeyResultStatus, Objective, Rating
from app.okrs import service
from app.validation import InputError


@pytest.fixture
def today(app, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", "2021-01-15")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def kr(today, users):
    objective = service.create_objective(
        title="Front Line Defenses", fiscal_year="FY20-21", department="Technology"
    )
    created = service.create_key_result(
        objective,
        code="KR2",
        statement="SPOF staff reduced from 8 to 4.",
        baseline_text="0 SPoF positions filled",
        baseline_value="0",
        goal_text="Hire for 4 SPoF positions",
        goal_value="4",
        goal_unit="positions",
        metric="spof_positions_filled",
    )
    db.session.commit()
    return created


def test_create_objective_and_key_result(kr):
    assert kr.objective.fiscal_year == 2020
    assert kr.goal_value == 4.0 and kr.baseline_value == 0.0
    assert kr.goal_direction == GoalDirection.INCREASE  # a numeric goal defaults to increase
    assert kr.position == 1
    assert count(AuditEntry) >= 2  # audited


def test_write_and_rewrite_a_status(kr, users):
    author = users[next(iter(users))]
    status = service.write_status(
        kr,
        quarter="FY20-21 Q2",
        text="25% filled",
        value="1",
        rating="at_risk",
        author_id=author.id,
    )
    db.session.commit()
    assert (status.value, status.rating, status.author_id) == (1.0, Rating.AT_RISK, author.id)
    assert status.written_on.isoformat() == "2021-01-15"
    service.write_status(kr, quarter="FY20-21 Q2", text="25% filled, 4 in hiring", value=1)
    db.session.commit()
    assert count(KeyResultStatus) == 1
    assert db.session.scalar(select(KeyResultStatus.text)) == "25% filled, 4 in hiring"


def _assert_refused(call, field: str, words: str) -> None:
    before = (count(Objective), count(KeyResult), count(KeyResultStatus), count(AuditEntry))
    with pytest.raises(InputError) as caught:
        call()
    db.session.rollback()
    assert words in caught.value.errors[field], caught.value.errors
    after = (count(Objective), count(KeyResult), count(KeyResultStatus), count(AuditEntry))
    assert after == before


def test_a_status_outside_the_objectives_fiscal_year_is_refused(kr):
    _assert_refused(
        lambda: service.write_status(kr, quarter="FY21-22 Q1", text="too late", value=2),
        "quarter",
        "FY21-22 Q1 is outside this objective's fiscal year FY20-21",
    )
    _assert_refused(
        lambda: service.write_status(kr, quarter="FY20-21 Q9", text="x"), "quarter", "Unknown"
    )


def test_a_quarter_that_has_not_started_is_refused(kr):
    _assert_refused(
        lambda: service.write_status(kr, quarter="FY20-21 Q4", text="early"),
        "quarter",
        "has not started yet",
    )


def test_a_value_that_is_not_a_number_is_refused_for_a_numeric_kr(kr):
    _assert_refused(
        lambda: service.write_status(kr, quarter="FY20-21 Q2", text="25% filled", value="one"),
        "value",
        '"one" is not a number: KR2 is measured in positions',
    )
    for bad in ("nan", "inf", "1_000", "25%"):
        _assert_refused(
            lambda bad=bad: service.write_status(kr, quarter="FY20-21 Q2", text="t", value=bad),
            "value",
            "is not a number",
        )


def test_a_metric_that_does_not_exist_is_refused(kr):
    objective = kr.objective
    _assert_refused(
        lambda: service.create_key_result(objective, code="KR3", statement="s", metric="nope"),
        "metric",
        'There is no register metric called "nope"',
    )
    _assert_refused(
        lambda: service.update_key_result(kr, code="KR2", statement="s", metric="spof_staf"),
        "metric",
        "spof_staf",
    )
    assert db.session.get(KeyResult, kr.id).metric == "spof_positions_filled"


def test_other_bad_input(kr):
    objective = kr.objective
    _assert_refused(
        lambda: service.create_key_result(objective, code="KR2", statement="again"),
        "code",
        "KR2 already exists",
    )
    _assert_refused(
        lambda: service.create_key_result(objective, code="KR4", statement="s", goal_value="x"),
        "goal_value",
        "number",
    )
    _assert_refused(
        lambda: service.create_objective(title="", fiscal_year="FY20-21"), "title", "title"
    )
    _assert_refused(
        lambda: service.create_objective(title="T", fiscal_year="2020/21"), "fiscal_year", "Unknown"
    )
    _assert_refused(
        lambda: service.write_status(kr, quarter="FY20-21 Q1", text="   "), "text", "Write"
    )
    _assert_refused(
        lambda: service.write_status(kr, quarter="FY20-21 Q1", text="t", rating="great"),
        "rating",
        "Unknown rating",
    )


def test_narratives_stay_in_the_fiscal_year(kr):
    objective = kr.objective
    service.set_narrative(objective, "FY20-21 Q2", "Shortlist of cities prepared.")
    db.session.commit()
    assert [n.text for n in objective.narratives] == ["Shortlist of cities prepared."]
    with pytest.raises(InputError) as caught:
        service.set_narrative(objective, "FY19-20 Q4", "earlier")
    assert "outside" in caught.value.errors["quarter"]
    db.session.rollback()
    service.set_narrative(objective, "FY20-21 Q2", "")
    db.session.commit()
    assert db.session.get(Objective, objective.id).narratives == []


def test_moving_an_objective_with_statuses_to_another_year_is_refused(kr):
    service.write_status(kr, quarter="FY20-21 Q1", text="0% filled", value=0)
    db.session.commit()
    _assert_refused(
        lambda: service.update_objective(
            kr.objective, title="Front Line Defenses", fiscal_year="FY21-22"
        ),
        "fiscal_year",
        "already has statuses",
    )


def test_clear_status(kr):
    service.write_status(kr, quarter="FY20-21 Q1", text="0% filled", value=0)
    db.session.commit()
    assert service.clear_status(kr, "FY20-21 Q1") is True
    db.session.commit()
    assert count(KeyResultStatus) == 0
    assert service.clear_status(kr, "FY20-21 Q1") is False
