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


def test_the_staff_target_path_goes_from_the_baseline_to_the_goal_with_a_projection():
    from app.domain.targets import staff_target_path

    path = staff_target_path(8, 4, QUARTERS, None, {Q1: 8, Q2: 7})
    assert [(t, m, p) for _, t, m, p in path] == [
        (7, 8, None),
        (6, 7, None),
        (5, None, 7),  # -0.5 a quarter since the year's start: 6.5 rounds half up
        (4, None, 6),
    ]
    # Set up in Q1: no reduction expected before Q2; the pace counts from Q1's end.
    path = staff_target_path(8, 4, QUARTERS, Q1.first_day, {Q1: 8, Q2: 6})
    assert [(t, m, p) for _, t, m, p in path] == [
        (8, 8, None),
        (7, 6, None),
        (5, None, 4),
        (4, None, 2),
    ]
    # Nothing measured yet: projected unchanged; never below zero.
    assert [p for *_, p in staff_target_path(3, 0, QUARTERS, None, {})] == [3, 3, 3, 3]
    assert [p for *_, p in staff_target_path(9, 0, QUARTERS, None, {Q1: 1})][1:] == [0, 0, 0]
