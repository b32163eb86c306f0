"""The coverage figures as key-result metrics and as a section of the quarterly PDF."""

from __future__ import annotations

import pytest

from app.domain.quarters import parse_quarter
from app.extensions import db
from app.metrics import get_metric, metric_choices
from app.models.okrs import KeyResult, Objective
from app.okrs.service import update_key_result
from app.reports.pdf import build_report_pdf
from app.reports.quarter_report import gather_quarter_report
from app.reports.quarter_report.sections import CATALOGUES, areas_of
from app.validation import InputError
from tests.reports.pdf_text import flat, pages_text

Q2 = parse_quarter("FY20-21 Q2")
Q3 = parse_quarter("FY20-21 Q3")


def test_each_library_offers_its_metrics(register, framework):
    names = dict(metric_choices())
    assert names[f"attack_exposed:{register}"] == (
        "Enterprise ATT&CK: threatened techniques with no deployed countermeasure"
    )
    assert f"attack_tactics_uncovered:{register}" in names
    assert names[f"controls_implemented:{framework}"] == (
        "ISO/IEC 27001:2022 Annex A: controls implemented (%)"
    )
    assert f"controls_implemented:{register}" not in names  # ATT&CK is no framework
    assert get_metric(f"controls_implemented:{register}") is None
    assert get_metric("controls_implemented:999") is None


def test_the_metrics_read_the_same_figures_as_the_pages(register, framework):
    exposed = get_metric(f"attack_exposed:{register}")
    assert exposed.value(Q2) == 1  # the T1486 cell at the Q2 end
    assert exposed.value(Q3) == 0  # measured today (2021-01-15): the backups deployed
    assert get_metric(f"attack_tactics_uncovered:{register}").value(Q2) == 5
    controls = get_metric(f"controls_implemented:{framework}")
    assert [controls.value(parse_quarter(f"FY20-21 Q{n}")) for n in (1, 2, 3, 4)] == [
        10,
        5,
        10,
        None,
    ]
    assert controls.value_on(Q2.first_day) == 10  # the lockout deployed, the year's baseline


def _objective(*metrics: str) -> Objective:
    objective = Objective(title="Front Line Defenses", statement="Secured.", fiscal_year=2020)
    for n, metric in enumerate(metrics, start=1):
        objective.key_results.append(
            KeyResult(code=f"KR{n}", statement=f"Key result {n}", goal_text="Goal", metric=metric)
        )
    db.session.add(objective)
    db.session.commit()
    return objective


def test_a_key_result_may_link_a_catalogue_metric_and_nothing_else(register):
    objective = _objective(None)
    kr = objective.key_results[0]
    update_key_result(kr, code="KR1", statement="S", metric=f"attack_exposed:{register}")
    assert kr.metric == f"attack_exposed:{register}"
    with pytest.raises(InputError) as refused:
        update_key_result(kr, code="KR1", statement="S", metric="attack_exposed:12345")
    assert "no register metric" in refused.value.errors["metric"]


def test_the_pdf_has_a_section_for_each_linked_library(register, framework):
    objective = _objective(f"attack_exposed:{register}", f"controls_implemented:{framework}")
    assert areas_of(objective) == frozenset({CATALOGUES})
    report = gather_quarter_report(objective, Q2, Q2.last_day)
    attack, controls = report.catalogues.blocks
    assert (attack.threatened, attack.covered, attack.exposed) == (2, 1, 1)
    assert [(t.ref, t.threats, t.worst_residual) for t in attack.exposed_techniques] == [
        ("T1486", 2, 20)
    ]
    assert attack.trend == [("FY20-21 Q1", 3), ("FY20-21 Q2", 1)]
    assert (controls.implemented, controls.controls, controls.percent) == (1, 21, 5)
    assert controls.trend == [("FY20-21 Q1", 10), ("FY20-21 Q2", 5)]
    assert report.headline()["ISO/IEC 27001:2022 Annex A: controls implemented"] == "5%"

    text = flat(" ".join(pages_text(build_report_pdf(report, Q2.last_day, "INTERNAL"))))
    assert "ATT&CK and control frameworks" in text
    assert "Enterprise ATT&CK: ATT&CK coverage" in text
    assert "T1486 Data Encrypted for Impact" in text
    assert "5% of the framework's controls (1 of 21) are implemented" in text
    # No risk, countermeasure or coverage section: the key results link none.
    assert "SPOF coverage" not in text


def test_a_report_without_a_catalogue_key_result_has_no_catalogue_section(register):
    objective = _objective("open_critical_risks")
    report = gather_quarter_report(objective, Q2, Q2.last_day)
    assert report.catalogues.blocks == []
    text = flat(" ".join(pages_text(build_report_pdf(report, Q2.last_day, "INTERNAL"))))
    assert "ATT&CK and control frameworks" not in text
