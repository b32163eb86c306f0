"""Per-quarter targets from a key result's yearly goal and baseline quarter."""

from __future__ import annotations

from app.domain.quarters import quarters_of_fiscal_year
from app.domain.targets import cumulative_target, quarter_target

QUARTERS = quarters_of_fiscal_year(2020)
Q1, Q2, Q3, Q4 = QUARTERS


def test_a_programme_set_up_in_q1_shares_the_goal_over_the_quarters_after_it():
    targets = [quarter_target(6, QUARTERS, Q1.first_day, q) for q in QUARTERS]
    assert targets == [None, 2, 2, 2]
    assert cumulative_target(6, QUARTERS, Q1.first_day, Q4) == 6


def test_without_a_baseline_quarter_every_quarter_has_a_share_and_the_shares_add_up():
    targets = [quarter_target(6, QUARTERS, None, q) for q in QUARTERS]
    assert None not in targets
    assert sum(targets) == 6
    for goal in (1, 4, 5, 7, 10, 1000):
        assert sum(quarter_target(goal, QUARTERS, None, q) for q in QUARTERS) == goal
        shares = [quarter_target(goal, QUARTERS, Q2.first_day, q) for q in QUARTERS]
        assert shares[:2] == [None, None] and sum(shares[2:]) == goal
