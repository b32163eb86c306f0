"""The cover, the objective and the key results' table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, KeepTogether, PageBreak, Paragraph, Spacer, Table

from app.models.okrs import Rating
from app.reports.pdf.layout import (
    FRAME_WIDTH,
    RATING_COLOURS,
    RATING_INK,
    RULE,
    STYLES,
    _heading,
    _long_date,
    _p,
    _table,
    _table_style,
)
from app.reports.quarter_report.sections import COUNTERMEASURES, COVERAGE, HIRING, RISK
from app.reports.quarter_report.values import QuarterReport, count
from app.reports.typefaces import markup


@dataclass(frozen=True)
class SignOff:
    """Who stands behind the document: the cover's sign-off block."""

    prepared_by: str = ""
    reviewed_by: str = ""
    published_on: date | None = None


def _rating_word(rating: Rating | None) -> Paragraph:
    if rating is None:
        return _p("Not rated", "cell_small")
    return Paragraph(
        f'<font color="{RATING_INK[rating]}"><b>{markup(rating.label)}</b></font>',
        STYLES["cell"],
    )


def _summary_table(report: QuarterReport) -> list:
    """Each key result's goal, status and rating in the quarter."""
    quarter = report.quarter
    parts: list = []
    index = quarter.number - 1
    if report.key_results:
        rows = [
            [
                _p(kr.code or "-", "cell_bold"),
                _p(kr.goal or "-"),
                _p(kr.cells[index].text),
                _rating_word(kr.cells[index].rating),
            ]
            for kr in report.key_results
        ]
        parts.append(
            _table(
                ["Key result", "Goal", f"{quarter.label} status", "Rating"],
                rows,
                [60, 150, FRAME_WIDTH - 60 - 150 - 70, 70],
            )
        )
    return parts


def _headline_boxes(report: QuarterReport) -> list:
    """The headline figures in boxes, then what changed since the previous quarter."""
    quarter = report.quarter
    parts: list = []
    headlines = report.headlines()
    if headlines:
        width = FRAME_WIDTH / len(headlines)
        cells = [
            [_p(count(h.value), "figure"), _p(h.label, "cell"), _p(h.change, "cell_small")]
            for h in headlines
        ]
        boxes = Table([cells], colWidths=[width] * len(headlines), hAlign="LEFT")
        boxes.setStyle(
            _table_style(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BOX", (0, 0), (-1, -1), 0.4, RULE),
                    ("INNERGRID", (0, 0), (-1, -1), 0.4, RULE),
                    ("TOPPADDING", (0, 0), (-1, -1), 5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ]
            )
        )
        parts += [Spacer(1, 4 * mm), boxes]
    changes = report.changes()
    if changes:
        parts += [
            Spacer(1, 3 * mm),
            _p(f"What changed since {quarter.previous().label}", "cell_bold"),
        ]
        parts += [_p(f"• {line}", "cell") for line in changes]
    return parts


def _sign_off(report: QuarterReport, signoff: SignOff) -> list:
    """Who prepared and reviewed the report, and when it was published."""
    parts: list = []
    published = (
        _long_date(signoff.published_on) if signoff.published_on else "draft — not published"
    )
    prepared = signoff.prepared_by or ", ".join(report.prepared_by) or "-"
    sign = Table(
        [
            [_p("Prepared by", "cell_small"), _p(prepared)],
            [_p("Reviewed by", "cell_small"), _p(signoff.reviewed_by or "-")],
            [_p("Published on", "cell_small"), _p(published, "cell_bold")],
        ],
        colWidths=[80, FRAME_WIDTH - 80],
        hAlign="LEFT",
    )
    sign.setStyle(
        _table_style(
            [
                ("BOX", (0, 0), (-1, -1), 0.4, RULE),
                ("LINEBELOW", (0, 0), (-1, -2), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    parts += [Spacer(1, 5 * mm), KeepTogether([_p("Sign-off", "cell_bold"), sign])]
    return parts


def _cover(report: QuarterReport, generated_on: date, marking: str, signoff: SignOff) -> list:
    quarter = report.quarter
    parts: list = [
        Spacer(1, 8 * mm),
        Paragraph(markup(report.objective_title), STYLES["title"]),
        _p(f"Quarterly report — {quarter.label}", "subtitle"),
    ]
    if report.department:
        parts.append(_p(report.department, "centre"))
    parts.append(
        _p(
            f"Figures as of {_long_date(report.as_of)} · generated on {_long_date(generated_on)}",
            "centre",
        )
    )
    if report.in_progress:
        parts.append(
            _p(
                f"{quarter.label} is still in progress: figures may change "
                f"until {_long_date(quarter.last_day)}.",
                "centre",
            )
        )
    if marking:
        parts += [Spacer(1, 2 * mm), _p(marking, "marking")]
    parts += [Spacer(1, 5 * mm), _heading("Executive summary")]
    parts += _summary_table(report)
    parts += _headline_boxes(report)
    parts += _sign_off(report, signoff)
    parts.append(PageBreak())
    return parts


def _objective_section(report: QuarterReport) -> list:
    parts = [_heading("Objective")]
    parts.append(_p(report.statement or "No objective statement has been written.", "body"))
    parts.append(_heading(f"Progress in {report.quarter.label}", 1))
    paragraphs = [p.strip() for p in report.narrative.split("\n\n") if p.strip()]
    if not paragraphs:
        paragraphs = ["No narrative has been written for this quarter."]
    for text in paragraphs:
        parts.append(_p(text, "body"))
    return parts


def kr_table(report: QuarterReport) -> Table:
    """The deck's layout: Key Results | Goal | Q1 | Q2 | Q3 | Q4; rating as cell colour."""
    # Wide enough that a word such as "countermeasures" never breaks inside a status.
    quarter_width, goal_width = 76, 76
    widths = [FRAME_WIDTH - goal_width - 4 * quarter_width, goal_width] + [quarter_width] * 4
    rows = []
    extra = []
    for r, kr in enumerate(report.key_results, start=1):
        row: list[object] = [_p(kr.title, "kr"), _p(kr.goal or "-", "kr")]
        for c, cell in enumerate(kr.cells, start=2):
            content = [_p(cell.text or "-", "kr")]
            if kr.linked and cell.value_text:
                content.append(_p(f"Register: {cell.value_text}", "cell_small"))
            row.append(content)
            if cell.rating in RATING_COLOURS:
                extra.append(("BACKGROUND", (c, r), (c, r), RATING_COLOURS[cell.rating]))
        rows.append(row)
    header = ["Key Results", "Goal", *report.quarter_labels]
    return _table(header, rows, widths, extra)


def _rating_legend() -> Table:
    row: list = [_p("Rating:", "cell_small")]
    style: list[tuple[object, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ]
    for rating, colour in RATING_COLOURS.items():
        column = len(row)
        row += ["", _p(rating.label, "cell_small")]
        style += [
            ("BACKGROUND", (column, 0), (column, 0), colour),
            ("BOX", (column, 0), (column, 0), 0.4, RULE),
        ]
    legend = Table([row], colWidths=[40] + [10, 52] * len(RATING_COLOURS), hAlign="LEFT")
    legend.setStyle(_table_style(style))
    return legend


def _key_results_section(report: QuarterReport) -> list:
    parts = [
        CondPageBreak(60 * mm),
        _heading(f"Key results — {report.quarter.fiscal_year_label}"),
    ]
    if not report.key_results:
        return parts + [_p("This objective has no key results yet.", "body")]
    parts += [
        kr_table(report),
        Spacer(1, 4),
        _rating_legend(),
        _p(
            '"-" marks a quarter with no status yet. "Register" is the value the register '
            "computes for a linked key result at each quarter end "
            f"(up to {_long_date(report.as_of)}).",
            "note",
        ),
    ]
    if not (report.areas & {RISK, COUNTERMEASURES, COVERAGE, HIRING}):
        parts.append(
            _p(
                "No key result of this objective is linked to a register figure, so this "
                "report holds no register section.",
                "note",
            )
        )
    return parts
