"""The register metrics registry, over stand-in figures (each area tests its own)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from app.domain.quarters import Quarter
from app.metrics import METRICS, get_metric, measured_on, one_reading_per_figure
from tests.okrs.helpers import FakeFigures

Q1, Q2, Q3, Q4 = (Quarter(2020, n) for n in range(1, 5))

EXPECTED = {
    "spof_staff",
    "uncovered_systems",
    "spof_positions_filled",
    "spof_positions_active_hiring",
    "countermeasures_deployed",
    "countermeasures_deployed_to_date",
    "top_threats_treated",
    "open_critical_risks",
    "overdue_reviews",
}


@pytest.fixture
def today(app, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", "2021-01-15")  # inside FY20-21 Q3


@pytest.fixture
def figures(app, monkeypatch, today) -> FakeFigures:
    return FakeFigures().give_to(app, monkeypatch)


def test_the_registry_names_every_metric_once():
    assert set(METRICS) == EXPECTED
    for name, metric in METRICS.items():
        assert metric.name == name
        assert metric.kind in ("count", "percent")
        assert metric.label and metric.unit and metric.per_quarter
    assert get_metric("no_such_metric") is None
    assert get_metric(None) is None


def test_a_quarter_is_measured_on_its_last_day_today_or_not_at_all(today):
    assert measured_on(Q2) == date(2020, 12, 31)
    assert measured_on(Q3) == date(2021, 1, 15)
    assert measured_on(Q4) is None


def test_point_in_time_metrics_ask_for_the_right_day(figures):
    figures.spof_staff = {date(2020, 9, 30): 8, date(2020, 12, 31): 7, date(2021, 1, 15): 6}
    metric = METRICS["spof_staff"]
    assert [metric.value(q) for q in (Q1, Q2, Q3, Q4)] == [8, 7, 6, None]
    assert metric.show(8, None) == "8 solely responsible staff"
    assert metric.show(1, None) == "1 solely responsible staff member"
    assert metric.value_on(date(2020, 7, 1)) == 8  # the default: the baseline


def test_positions_filled_proposes_the_decks_wording(figures):
    figures.filled = {date(2020, 12, 31): 1}
    figures.hiring = 4
    kr = SimpleNamespace(goal_value=4)
    metric = METRICS["spof_positions_filled"]
    value = metric.value(Q2)
    assert value == 1
    assert metric.describe(value, Q2, kr) == "25% filled, 4 SPOF positions in active hiring"
    assert metric.show(value, kr) == "1 of 4 positions filled"
    assert metric.related == ("spof_staff",)


def test_positions_filled_mentions_final_stages_and_falls_back_to_the_goal_setting(figures):
    figures.hiring, figures.final, figures.goal = 0, 1, 5
    metric = METRICS["spof_positions_filled"]
    assert metric.describe(0, Q1, None) == "0% filled, 1 hiring process in final stages"
    assert metric.show(2, SimpleNamespace(goal_value=None)) == "2 of 5 positions filled"


def test_countermeasure_metrics_take_the_quarter(figures):
    figures.deployed = {1: 1, 2: 3}
    to_date = METRICS["countermeasures_deployed_to_date"]
    in_quarter = METRICS["countermeasures_deployed"]
    assert [to_date.value(q) for q in (Q1, Q2, Q3, Q4)] == [1, 4, 4, None]
    assert [in_quarter.value(q) for q in (Q1, Q2, Q3)] == [1, 3, 0]
    assert to_date.describe(4, Q2, None) == "4 countermeasures deployed"
    assert in_quarter.describe(1, Q1, None) == "1 countermeasure deployed in FY20-21 Q1"
    assert to_date.at is None and to_date.value_on(date(2020, 7, 1)) is None


def test_top_threats_treated_counts_the_treated_among_the_target_number(figures):
    figures.target, figures.treated = 2, (True, False, True)
    metric = METRICS["top_threats_treated"]
    assert metric.value(Q2) == 1
    assert ("top_threats_treated", Q2, 2) in figures.calls
    assert metric.describe(1, Q2, None) == "1 of the top 2 threats treated in FY20-21 Q2"


def test_threat_and_coverage_counts(figures):
    assert METRICS["open_critical_risks"].value(Q2) == 3
    assert METRICS["overdue_reviews"].value(Q2) == 2
    assert METRICS["uncovered_systems"].value(Q2) == 1
    assert METRICS["spof_positions_active_hiring"].value(Q2) == 4
    assert METRICS["overdue_reviews"].describe(2, Q2, None) == "2 threat reviews overdue"


def test_figures_are_computed_once_per_page(figures):
    metric = METRICS["spof_staff"]
    with one_reading_per_figure():
        metric.value(Q2)
        metric.value(Q2)
    assert figures.calls.count(("spof_staff_count", date(2020, 12, 31))) == 1
    metric.value(Q2)
    metric.value(Q2)
    assert figures.calls.count(("spof_staff_count", date(2020, 12, 31))) == 3
