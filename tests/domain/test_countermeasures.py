"""Quarter figures over plain values: which countermeasures count where, and their credit."""

from dataclasses import dataclass
from datetime import date

from app.domain.countermeasures import (
    CountermeasureFact,
    ScoreEvent,
    allowed_next_statuses,
    count_deployed_between,
    fiscal_year_start,
    residual_reductions,
    slipped,
    top_threats_treated,
)
from app.domain.quarters import Quarter

Q1, Q2, Q3 = Quarter(2020, 1), Quarter(2020, 2), Quarter(2020, 3)


@dataclass(frozen=True)
class Ranked:
    id: int
    title: str
    residual_score: int


def fact(id, deployed_on=None, status="DEPLOYED", threats=(), target=None):
    return CountermeasureFact(
        id=id,
        title=f"cm{id}",
        status=status if deployed_on or status != "DEPLOYED" else "PLANNED",
        deployed_on=deployed_on,
        target_quarter_start=target,
        threat_ids=frozenset(threats),
    )


def test_deployed_on_the_last_day_of_a_quarter_counts_in_that_quarter_only():
    facts = [fact(1, date(2020, 12, 31))]
    assert count_deployed_between(facts, Q2.first_day, Q2.last_day) == 1
    assert count_deployed_between(facts, Q3.first_day, Q3.last_day) == 0
    on_first_day = [fact(2, date(2021, 1, 1))]
    assert count_deployed_between(on_first_day, Q2.first_day, Q2.last_day) == 0
    assert count_deployed_between(on_first_day, Q3.first_day, Q3.last_day) == 1


def test_a_retired_countermeasure_still_counts_in_the_quarter_it_was_deployed():
    facts = [fact(1, date(2020, 11, 3), status="RETIRED")]
    assert count_deployed_between(facts, Q2.first_day, Q2.last_day) == 1
    # Retired without ever being deployed: never counted.
    assert count_deployed_between([fact(2, None, status="RETIRED")], Q1.first_day, Q3.last_day) == 0


def test_to_date_runs_from_the_fiscal_year_start():
    assert fiscal_year_start(Q3) == date(2020, 7, 1)
    assert fiscal_year_start(Quarter(2021, 2, start_month=1)) == date(2021, 1, 1)
    facts = [fact(1, date(2020, 6, 30)), fact(2, date(2020, 7, 1)), fact(3, date(2020, 12, 31))]
    assert count_deployed_between(facts, fiscal_year_start(Q2), Q2.last_day) == 2


def test_one_countermeasure_treating_two_top_threats_counts_for_both():
    top = [Ranked(10, "DDoS", 20), Ranked(11, "Disinformation", 16), Ranked(12, "Insider", 12)]
    facts = [
        fact(1, date(2020, 10, 15), threats={10, 11}),
        fact(2, date(2020, 9, 30), threats={12}),  # Q1: not this quarter
        fact(3, None, status="IN_PROGRESS", threats={12}),
    ]
    rows = top_threats_treated(top, facts, Q2)
    assert [(r.rank, r.threat.id, r.treated) for r in rows] == [
        (1, 10, True),
        (2, 11, True),
        (3, 12, False),
    ]
    assert [c.id for c in rows[0].countermeasures] == [1]
    assert [c.id for c in rows[1].countermeasures] == [1]


def test_treating_countermeasures_listed_by_deployment_date():
    top = [Ranked(10, "DDoS", 20)]
    facts = [fact(2, date(2020, 12, 1), threats={10}), fact(1, date(2020, 10, 2), threats={10})]
    assert [c.id for c in top_threats_treated(top, facts, Q2)[0].countermeasures] == [1, 2]


def test_slipped_is_planned_for_the_quarter_and_not_deployed_in_it():
    facts = [
        fact(1, None, status="IN_PROGRESS", target=Q2.first_day),  # slipped
        fact(2, date(2021, 1, 20), target=Q2.first_day),  # deployed a quarter late
        fact(3, date(2020, 12, 31), target=Q2.first_day),  # on time, last day
        fact(4, date(2020, 9, 1), target=Q2.first_day),  # early: not slipped
        fact(5, None, status="PLANNED", target=Q3.first_day),  # other quarter
        fact(6, None, status="RETIRED", target=Q2.first_day),  # dropped: slipped
    ]
    assert [f.id for f in slipped(facts, Q2)] == [1, 2, 6]


def test_residual_reduction_is_previous_residual_minus_the_new_one():
    events = [
        ScoreEvent(1, threat_id=10, changed_on=date(2020, 8, 1), residual_score=20),
        ScoreEvent(
            2, threat_id=10, changed_on=date(2020, 10, 26), residual_score=16, countermeasure_id=7
        ),
        ScoreEvent(3, threat_id=11, changed_on=date(2020, 8, 1), residual_score=12),
        ScoreEvent(4, threat_id=11, changed_on=date(2020, 9, 1), residual_score=15),
        ScoreEvent(
            5, threat_id=11, changed_on=date(2020, 10, 26), residual_score=9, countermeasure_id=7
        ),
        ScoreEvent(
            6, threat_id=10, changed_on=date(2020, 11, 5), residual_score=12, countermeasure_id=8
        ),
    ]
    assert residual_reductions(reversed(events)) == {7: 4 + 6, 8: 4}
    assert residual_reductions(events).get(8, 0) == 4
    assert residual_reductions(events).get(99, 0) == 0


def test_residual_reduction_same_day_changes_order_by_entry_and_rises_count_negative():
    events = [
        ScoreEvent(1, 10, date(2020, 10, 1), 8),
        ScoreEvent(2, 10, date(2020, 10, 1), 6, countermeasure_id=1),
        ScoreEvent(3, 10, date(2020, 10, 2), 9, countermeasure_id=2),
        ScoreEvent(4, 11, date(2020, 10, 2), 9, countermeasure_id=3),  # nothing before it
    ]
    assert residual_reductions(events) == {1: 2, 2: -3, 3: 0}


def test_status_moves_forward_only():
    assert allowed_next_statuses("PLANNED") == ("IN_PROGRESS", "DEPLOYED", "RETIRED")
    assert allowed_next_statuses("DEPLOYED") == ("RETIRED",)
    assert allowed_next_statuses("RETIRED") == ()
