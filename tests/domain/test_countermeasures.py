"""Quarter figures over plain values: which countermeasures count where."""

from dataclasses import dataclass
from datetime import date

from app.domain.countermeasures import (
    CountermeasureFact,
    allowed_next_statuses,
    fiscal_year_start,
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


def test_the_fiscal_year_start_of_a_quarter():
    assert fiscal_year_start(Q3) == date(2020, 7, 1)
    assert fiscal_year_start(Quarter(2021, 2, start_month=1)) == date(2021, 1, 1)


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


def test_status_moves_forward_only():
    assert allowed_next_statuses("PLANNED") == ("IN_PROGRESS", "DEPLOYED", "RETIRED")
    assert allowed_next_statuses("DEPLOYED") == ("RETIRED",)
    assert allowed_next_statuses("RETIRED") == ()
