"""The PDF builder on hand-filled report values: layout, text read back, reproducibility."""

from __future__ import annotations

import dataclasses
from datetime import date

import pypdf

from app.reports.pdf import build_report_pdf
from app.reports.quarter_report import KrCell, KrLine
from tests.reports.pdf_text import assert_cells_in_order, flat, kr_page_text, pages_text
from tests.reports.sample import DECK_ROWS, deck_report

GENERATED = date(2021, 1, 15)
MARKING = "Internal — leadership"


def test_the_key_result_table_reads_as_the_deck_cell_for_cell():
    pdf = build_report_pdf(deck_report(), GENERATED, MARKING)
    text = kr_page_text(pdf)
    assert_cells_in_order(text, ["Key Results", "Goal", "Q1", "Q2", "Q3", "Q4"])
    for code, statement, goal, q1, q2 in DECK_ROWS:
        assert_cells_in_order(text, [f"{code}: {statement}", goal, q1, q2, "-", "-"])
    # The register's value beside the linked key results, in their quarter's cell.
    assert_cells_in_order(
        text,
        ["0% filled 1 hiring process in final stages", "Register: 0 of 4 positions filled"],
    )
    assert_cells_in_order(text, ["4 countermeasures deployed", "Register: 4 countermeasures"])


def test_same_report_and_date_give_the_same_bytes():
    first = build_report_pdf(deck_report(), GENERATED, MARKING)
    again = build_report_pdf(deck_report(), GENERATED, MARKING)
    assert first == again
    later = build_report_pdf(deck_report(), date(2021, 1, 16), MARKING)
    assert later != first
    info = pypdf.PdfReader(__import__("io").BytesIO(first)).metadata
    assert info["/CreationDate"].startswith("D:20210115")


def test_every_page_has_the_header_footer_and_page_n_of_m():
    # "of m" is one form every page draws, filled in when the last page is known.
    pages = [flat(t) for t in pages_text(build_report_pdf(deck_report(), GENERATED, MARKING))]
    total = len(pages)
    assert total >= 4
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in text
        assert MARKING in text
        assert "Front Line Defenses — FY20-21 Q2" in text
        assert "generated on 2021-01-15" in text


def test_title_page_and_sections():
    pages = [flat(t) for t in pages_text(build_report_pdf(deck_report(), GENERATED, MARKING))]
    assert "Quarterly report — FY20-21 Q2" in pages[0]
    assert "Figures as of 31 December 2020" in pages[0]
    assert "generated on 15 January 2021" in pages[0]
    everything = " ".join(pages)
    for heading in ("Objective", "Key results — FY20-21", "Risk", "Countermeasures"):
        assert heading in everything
    assert "SPOF coverage" in everything
    assert "Likelihood" in everything and "Impact" in everything
    assert "Quarter end" in everything and "Count" in everything  # trend chart axes
    # "and N more" says where the rest is.
    assert "… and 3 more overdue reviews: all of them are on the register's Reviews page" in (
        everything
    )
    assert "… and 2 more staff members: the coverage page (/coverage?date=2020-12-31)" in (
        everything
    )


def test_missing_sections_say_so_instead_of_failing():
    report = dataclasses.replace(deck_report(), key_results=None, risk=None, coverage=None)
    everything = flat(" ".join(pages_text(build_report_pdf(report, GENERATED, MARKING))))
    assert "No key-result figures are available" in everything
    assert "No risk figures are available" in everything
    assert "No coverage figures are available" in everything


def test_register_text_is_shown_literally_never_as_markup():
    report = deck_report()
    report.objective_title = "Defenses <b>&amp; more</b> & <unclosed"
    report.narrative = "Tags like <font size=40>this</font> & ampersands stay text."
    pages = [flat(t) for t in pages_text(build_report_pdf(report, GENERATED, MARKING))]
    assert "Defenses <b>&amp; more</b> & <unclosed" in pages[0]
    assert "Tags like <font size=40>this</font> & ampersands stay text." in " ".join(pages)


def test_a_huge_key_result_wraps_over_pages_without_losing_text():
    statement = " ".join(f"word{i}" for i in range(3000))
    report = deck_report()
    report.key_results = [
        KrLine("KR9", f"KR9: {statement}", "Goal", (KrCell("status"),) + (KrCell(),) * 3),
        *report.key_results,
    ]
    pages = pages_text(build_report_pdf(report, GENERATED, MARKING))
    text = flat(" ".join(pages))
    assert "word0 " in text and "word2999" in text
    assert "Key Results Goal Q1 Q2 Q3 Q4" in flat(" ".join(pages[2:4]))  # header repeated
    assert_cells_in_order(text, [DECK_ROWS[2][4]])
