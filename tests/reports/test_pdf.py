"""The PDF builder on hand-filled report values: layout, text read back, reproducibility."""

from __future__ import annotations

import dataclasses
from datetime import date

import pypdf

from app.reports.pdf import build_report_pdf
from app.reports.quarter_report.values import (
    CountermeasureSection,
    CoverageSection,
    KrCell,
    KrLine,
    QuarterReport,
    RiskSection,
)
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


def test_a_report_holds_every_section_and_draws_an_empty_one_from_its_content():
    sample = deck_report()
    # Only what every report has: no section given.
    report = QuarterReport(1, sample.objective_title, "", "", sample.quarter, sample.as_of)
    assert report.key_results == [] and report.catalogues.blocks == []
    assert report.risk == RiskSection.empty() and report.coverage == CoverageSection.empty()
    assert report.countermeasures == CountermeasureSection.empty()
    everything = flat(" ".join(pages_text(build_report_pdf(report, GENERATED, MARKING))))
    assert "This objective has no key results yet." in everything
    for heading in ("Risk", "Countermeasures", "SPOF coverage", "SPOF hiring"):
        assert heading in everything


def test_register_text_is_shown_literally_never_as_markup():
    report = deck_report()
    report.objective_title = "Defenses <b>&amp; more</b> & <unclosed"
    report.narrative = "Tags like <font size=40>this</font> & ampersands stay text."
    pages = [flat(t) for t in pages_text(build_report_pdf(report, GENERATED, MARKING))]
    assert "Defenses <b>&amp; more</b> & <unclosed" in pages[0]
    assert "Tags like <font size=40>this</font> & ampersands stay text." in " ".join(pages)


def test_the_longest_allowed_key_result_texts_wrap_without_losing_text():
    from app.okrs.inputs import (
        BASELINE_MAX,
        CODE_MAX,
        GOAL_MAX,
        NARRATIVE_MAX,
        STATEMENT_MAX,
        STATUS_MAX,
        TITLE_MAX,
    )

    def words(prefix: str, limit: int) -> str:
        text = " ".join(f"{prefix}{i}" for i in range(limit))
        return text[: text.rindex(" ", 0, limit)]

    # The key-result cell is "code: statement Baseline: baseline", as the report builds it.
    code = "K" * CODE_MAX
    statement = f"{code}: {words('word', STATEMENT_MAX)} Baseline: {words('base', BASELINE_MAX)}"
    goal = words("goal", GOAL_MAX)
    statuses = tuple(KrCell(words(f"q{q}s", STATUS_MAX)) for q in range(1, 5))
    report = deck_report()
    report.objective_title = words("title", TITLE_MAX)
    report.statement = words("objective", STATEMENT_MAX)
    report.narrative = words("narrative", NARRATIVE_MAX)
    report.key_results = [KrLine(code, statement, goal, statuses), *report.key_results] * 3
    pages = pages_text(build_report_pdf(report, GENERATED, MARKING))
    text = flat(" ".join(pages))
    for full in (statement, goal, *(cell.text for cell in statuses)):
        assert full.split()[-1] in text
    for full in (report.objective_title, report.statement, report.narrative):
        assert full.split()[-1] in text
    assert "shortened here" not in text
    # The table runs over several pages, its header repeated on each.
    assert sum("Key Results Goal Q1 Q2 Q3 Q4" in flat(page) for page in pages) >= 2
    assert_cells_in_order(text, [DECK_ROWS[2][4]])


def test_a_cell_too_long_for_a_page_is_cut_with_a_marker():
    # Text written before the limits existed: the report still comes out, quickly.
    report = deck_report()
    huge = "A" * 100_000
    report.key_results = [
        KrLine("KR9", "KR9: huge", "Goal", (KrCell(huge),) + (KrCell(),) * 3),
        *report.key_results,
    ]
    text = flat(" ".join(pages_text(build_report_pdf(report, GENERATED, MARKING))))
    assert "[shortened here; the full text is in Frontline]" in text
    assert "A" * 5_000 not in text.replace(" ", "")


def _pdftotext(pdf: bytes) -> str:
    import subprocess

    return subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def test_names_in_any_script_print_in_embedded_fonts_only():
    import shutil
    import subprocess

    if not shutil.which("pdftotext") or not shutil.which("pdffonts"):
        import pytest

        pytest.skip("poppler-utils (pdftotext, pdffonts) is not installed")
    report = deck_report()
    report.objective_title = "Front Line Defenses Łódź"
    report.coverage.sole_responsible = [
        ("Дмитрий Иванов", ("Łódź edge cache",)),
        ("Γιώργος Παπαδόπουλος", ("東京 data center",)),
    ]
    pdf = build_report_pdf(report, GENERATED, MARKING)
    text = _pdftotext(pdf)
    for name in ("Дмитрий Иванов", "Łódź", "東京", "Γιώργος Παπαδόπουλος"):
        assert name in text
    fonts = subprocess.run(
        ["pdffonts", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    rows = fonts.splitlines()[2:]
    assert rows, fonts
    # name type encoding emb sub uni: every font is embedded.
    assert all(row.split()[-5] == "yes" for row in rows), fonts
    assert not any("Helvetica" in row or "Times" in row for row in rows), fonts


def test_line_breaks_in_statuses_and_narratives_are_kept():
    report = deck_report()
    report.key_results = [
        KrLine(
            "KR2",
            "KR2: statement",
            "Goal",
            (KrCell("0% filled\n1 hiring process in final stages"),) + (KrCell(),) * 3,
        )
    ]
    report.narrative = "First line of the story\nsecond line of the story"
    text = "\n".join(pages_text(build_report_pdf(report, GENERATED, MARKING)))
    assert "0% filled\n1 hiring process" in text
    assert "First line of the story\nsecond line" in text


def test_numbers_have_thousands_separators():
    report = deck_report()
    report.risk.overdue_count = 12345
    report.coverage.spof_staff = 2500
    text = flat(" ".join(pages_text(build_report_pdf(report, GENERATED, MARKING))))
    assert "12,345 reviews overdue" in text
    assert "… and 12,340 more overdue reviews" in text
    assert "Staff solely responsible for a production system 2,500" in text


def _outline_titles(pdf: bytes) -> list[str]:
    import io

    def walk(items):
        for item in items:
            if isinstance(item, list):
                yield from walk(item)
            else:
                yield item.title

    return list(walk(pypdf.PdfReader(io.BytesIO(pdf)).outline))


def test_every_section_is_an_outline_entry():
    titles = _outline_titles(build_report_pdf(deck_report(), GENERATED, MARKING))
    for title in (
        "Executive summary",
        "Objective",
        "Progress in FY20-21 Q2",
        "Key results — FY20-21",
        "Risk",
        "Top 5 threats by residual score",
        "Reviews overdue",
        "Countermeasures",
        "Top threats at the start of FY20-21 Q2 and their treatment",
        "Deployed in FY20-21 Q2",
        "Slipped",
        "SPOF coverage",
        "Staff solely responsible",
        "SPOF hiring",
        "Hiring pipeline",
    ):
        assert title in titles


def test_only_the_areas_linked_to_the_objective_are_shown():
    report = dataclasses.replace(deck_report(), areas=frozenset())
    pdf = build_report_pdf(report, GENERATED, MARKING)
    titles = _outline_titles(pdf)
    assert "Key results — FY20-21" in titles
    for title in ("Risk", "Countermeasures", "SPOF coverage", "SPOF hiring"):
        assert title not in titles
    text = flat(" ".join(pages_text(pdf)))
    assert "Residual risk on" not in text and "Hiring pipeline" not in text


def test_the_cover_holds_the_executive_summary_and_sign_off():
    from app.reports.pdf.cover import SignOff

    draft = flat(pages_text(build_report_pdf(deck_report(), GENERATED, MARKING))[0])
    assert "Executive summary" in draft
    assert_cells_in_order(draft, ["KR1", "At risk", "KR2", "On track", "KR3", "On track"])
    assert "Published on draft — not published" in draft
    signed = build_report_pdf(
        deck_report(),
        GENERATED,
        MARKING,
        SignOff("Morgan Manager", "Alex Admin", date(2021, 1, 15)),
    )
    cover = flat(pages_text(signed)[0])
    assert_cells_in_order(
        cover, ["Prepared by", "Morgan Manager", "Reviewed by", "Alex Admin", "15 January 2021"]
    )
