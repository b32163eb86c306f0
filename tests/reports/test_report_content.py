"""What an objective's report holds, on the demo data: its own areas, targets where the key
result applies, top threats whose residual scores add up."""

from __future__ import annotations

import io
from datetime import date

import pypdf
import pytest
from sqlalchemy import select

from app.domain.quarters import parse_quarter
from app.extensions import db
from app.models.okrs import Objective
from app.reports.pdf import build_report_pdf
from app.reports.quarter_report import gather_quarter_report
from app.reports.quarter_report.sections import ALL_AREAS, COUNTERMEASURES, COVERAGE, HIRING, RISK
from app.reports.quarter_report.values import CountermeasureSection, CoverageSection, RiskSection
from app.seed import load_demo
from tests.reports.pdf_text import flat, kr_page_text, pages_text

for _area in ("okrs", "threats", "countermeasures", "coverage"):
    pytest.importorskip(f"app.{_area}.figures")

TODAY = date(2021, 1, 15)


@pytest.fixture
def demo(app, users, monkeypatch):
    load_demo()
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", TODAY.isoformat())
    return monkeypatch


def _objective(title: str) -> Objective:
    return db.session.scalar(
        select(Objective).where(Objective.title == title, Objective.fiscal_year == 2020)
    )


def _report(title: str, quarter: str):
    return gather_quarter_report(_objective(title), parse_quarter(quarter), TODAY)


def _outline(pdf: bytes) -> list[str]:
    def walk(items):
        for item in items:
            yield from walk(item) if isinstance(item, list) else [item.title]

    return list(walk(pypdf.PdfReader(io.BytesIO(pdf)).outline))


def test_an_objective_without_register_links_has_no_register_pages(demo):
    report = _report("Production Quality", "FY20-21 Q2")
    assert report.areas == frozenset()
    # Every section is held, empty where the objective links no register area.
    assert report.risk == RiskSection.empty()
    assert report.countermeasures == CountermeasureSection.empty()
    assert report.coverage == CoverageSection.empty()
    pdf = build_report_pdf(report, TODAY, "Internal")
    titles = _outline(pdf)
    assert "Key results — FY20-21" in titles and "Objective" in titles
    for section in ("Risk", "Countermeasures", "SPOF coverage", "SPOF hiring"):
        assert section not in titles
    text = flat(" ".join(pages_text(pdf)))
    for words in ("Residual risk on", "Top 10 threats", "Staff solely responsible", "Slipped"):
        assert words not in text


def test_front_line_defenses_shows_the_areas_its_key_results_are_linked_to(demo):
    report = _report("Front Line Defenses", "FY20-21 Q2")
    assert report.areas == ALL_AREAS == {RISK, COUNTERMEASURES, COVERAGE, HIRING}
    titles = _outline(build_report_pdf(report, TODAY, "Internal"))
    for section in ("Risk", "Countermeasures", "SPOF coverage", "SPOF hiring"):
        assert section in titles


def test_the_kr2_q1_cell_keeps_its_line_break(demo):
    pdf = build_report_pdf(_report("Front Line Defenses", "FY20-21 Q1"), TODAY, "Internal")
    page = next(t for t in pages_text(pdf) if "Key Results" in t)
    assert "0% filled\n1 hiring process" in page  # the column may wrap it further on
    assert "0% filled 1 hiring process in final stages" in kr_page_text(pdf)


def test_no_countermeasure_target_before_kr3s_programme_starts(demo):
    q1 = _report("Front Line Defenses", "FY20-21 Q1").countermeasures
    assert q1.quarter_target is None
    assert q1.yearly_goal == 6
    q2 = _report("Front Line Defenses", "FY20-21 Q2").countermeasures
    assert q2.quarter_target == 2 and q2.target_source == "KR3"
    # Two a quarter over Q2, Q3 and Q4: the yearly goal.
    assert q2.quarter_target * 3 == q2.yearly_goal
    text = flat(
        " ".join(
            pages_text(build_report_pdf(_report("Front Line Defenses", "FY20-21 Q1"), TODAY, "x"))
        )
    )
    assert "Deployed in FY20-21 Q1 0 no target" in text
    assert "target 2" not in text


def test_top_threats_start_plus_recorded_changes_gives_the_end(demo):
    from app.models.threats import Threat
    from app.threats.as_of import scores_as_of_query

    for quarter in ("FY20-21 Q1", "FY20-21 Q2"):
        report = _report("Front Line Defenses", quarter)
        treated = report.countermeasures.top_treated
        assert treated
        q = report.quarter
        for t in treated:
            assert t.residual_score + sum(step.change for step in t.steps) == t.end_residual
            # The end is the residual score in force at the quarter end, as the register says.
            query, _ = scores_as_of_query(q.last_day, include_closed=True)
            ((score,),) = db.session.execute(
                query.with_only_columns(query.selected_columns.residual_score).where(
                    Threat.title == t.title
                )
            ).all()
            assert t.end_residual == score
    q2 = {
        t.title: t for t in _report("Front Line Defenses", "FY20-21 Q2").countermeasures.top_treated
    }
    takeover = q2["Account takeover of privileged accounts"]
    assert (takeover.residual_score, takeover.end_residual) == (20, 4)
    manual = [s for s in takeover.steps if not s.countermeasure]
    credited = [s for s in takeover.steps if s.countermeasure]
    assert manual and all(s.note for s in manual)
    assert sorted(-s.change for s in credited) == [1, 5]


def test_rank_and_residual_changes_are_separate(demo):
    report = _report("Front Line Defenses", "FY20-21 Q2")
    for line in report.risk.top_threats:
        assert line.rank_change.endswith(f"→ #{line.rank}")
        assert line.residual_change.endswith(f"→ {line.residual_score}")


def test_overdue_reviews_are_listed_highest_residual_first(demo):
    for quarter in ("FY20-21 Q1", "FY20-21 Q2"):
        risk = _report("Front Line Defenses", quarter).risk
        assert len(risk.overdue) == min(risk.overdue_count, 15)
        assert all(line.due_on < parse_quarter(quarter).last_day for line in risk.overdue)
        scores = [line.residual_score for line in risk.overdue]
        assert scores == sorted(scores, reverse=True)


def test_the_coverage_chart_carries_kr2s_target_baseline_and_projection(demo):
    """KR2: staff solely responsible from 8 (the fiscal year's start) to 4 (8 less the 4
    positions to fill) by Q4; 8 and 7 measured at Q1 and Q2; ahead, the pace so far
    (-0.5 a quarter) gives 6.5 -> 7 at Q3 and 6 at Q4."""
    target = _report("Front Line Defenses", "FY20-21 Q2").coverage.target
    assert target is not None
    assert (target.code, target.baseline, target.goal) == ("KR2", 8, 4)
    assert target.baseline_label == "1 July 2020"
    assert [(p.quarter, p.target, p.measured, p.projected) for p in target.points] == [
        ("FY20-21 Q1", 7, 8, None),
        ("FY20-21 Q2", 6, 7, None),
        ("FY20-21 Q3", 5, None, 7),
        ("FY20-21 Q4", 4, None, 6),
    ]
    # The measured points are the chart's bars: the section's own trend.
    trend = _report("Front Line Defenses", "FY20-21 Q2").coverage.trend
    assert [p.spof_staff for p in trend] == [8, 7]


def test_the_target_line_follows_the_key_results_baseline_quarter(demo):
    objective = _objective("Front Line Defenses")
    kr2 = next(kr for kr in objective.key_results if kr.code == "KR2")
    kr2.baseline_quarter_start = date(2020, 7, 1)  # set up in Q1: reduce over Q2-Q4
    db.session.commit()
    target = _report("Front Line Defenses", "FY20-21 Q2").coverage.target
    # The baseline is then the count at the end of Q1 (8); no reduction expected in Q1.
    assert (target.baseline, target.baseline_label, target.goal) == (8, "end of FY20-21 Q1", 4)
    assert [p.target for p in target.points] == [8, 7, 5, 4]
    q1 = _report("Front Line Defenses", "FY20-21 Q1").coverage.target
    assert [p.projected for p in q1.points] == [None, 8, 8, 8]


def test_no_target_line_without_a_coverage_key_result(demo):
    report = _report("Production Quality", "FY20-21 Q2")
    assert report.coverage.target is None


@pytest.mark.parametrize("day", [date(2020, 6, 30), date(2020, 9, 30), date(2020, 12, 31), TODAY])
def test_the_reports_one_pass_heat_maps_and_critical_count_equal_the_figures_own(demo, day):
    from app import figure_cache
    from app.domain.scoring import Level
    from app.threats import figures

    both = figures.both_cells_on(day)
    for kind in ("inherent", "residual"):
        assert both[kind] == figures._cells.uncached(day, kind)
    figure_cache.clear()
    assert figures.open_critical_risks(day) == figures.level_counts(day)[Level.CRITICAL]
