"""The quarterly report as a PDF: ReportLab platypus for the document, graphics for charts.

``build_report_pdf`` lays out a ``QuarterReport`` (values gathered elsewhere) and returns
the document's bytes. It computes nothing the dashboard would compute differently. The
output is reproducible: ReportLab's invariant mode plus a creation date taken from
``generated_on`` give the same bytes for the same report and date.

Text is printed in embedded TrueType fonts (``app.reports.typefaces``) so any script
reads back; every section heading is a bookmark in the PDF outline; "Page n of m" draws
the page count from one form filled in once the last page is known, so no page state is
kept or replayed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import (
    STATE_DEFAULTS,
    Circle,
    Drawing,
    Group,
    PolyLine,
    Rect,
    String,
)
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from app.domain.scoring import Level
from app.models.okrs import Rating
from app.reports.quarter_report import (
    CATALOGUES,
    COUNTERMEASURES,
    COVERAGE,
    HIRING,
    RISK,
    CatalogueBlock,
    CatalogueSection,
    CountermeasureSection,
    CoverageSection,
    HeatMap,
    QuarterReport,
    RiskSection,
    count,
)
from app.reports.typefaces import SANS, SANS_BOLD, draw_text, font_for, markup, register_fonts

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 15 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN
LANDSCAPE_WIDTH = PAGE_HEIGHT - 2 * MARGIN

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#cbd2d9")
HEADER_BG = colors.HexColor("#243b53")

RATING_COLOURS = {
    Rating.ON_TRACK: colors.HexColor("#d3f0dc"),
    Rating.AT_RISK: colors.HexColor("#ffeeba"),
    Rating.OFF_TRACK: colors.HexColor("#f8d0d4"),
    Rating.DONE: colors.HexColor("#cfe2ff"),
}
# The rating as a coloured word on the cover (dark enough to read on white).
RATING_INK = {
    Rating.ON_TRACK: "#1e7b3a",
    Rating.AT_RISK: "#9a6700",
    Rating.OFF_TRACK: "#b42318",
    Rating.DONE: "#1d4ed8",
}
LEVEL_COLOURS = {
    Level.LOW: colors.HexColor("#a8dab5"),
    Level.MEDIUM: colors.HexColor("#ffe08a"),
    Level.HIGH: colors.HexColor("#ffb169"),
    Level.CRITICAL: colors.HexColor("#f28b82"),
}
SERIES_COLOURS = (
    colors.HexColor("#d64545"),
    colors.HexColor("#f0b429"),
    colors.HexColor("#486581"),
)


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle(
        "body", fontName=SANS, fontSize=9.5, leading=13, textColor=INK, spaceBefore=0
    )
    heading = ParagraphStyle(
        "heading", parent=body, fontName=SANS_BOLD, keepWithNext=1, spaceAfter=4
    )
    return {
        "title": ParagraphStyle(
            "title",
            parent=heading,
            fontSize=24,
            leading=30,
            alignment=TA_CENTER,
            spaceAfter=6,
            keepWithNext=0,
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=body, fontSize=14, leading=19, alignment=TA_CENTER, spaceAfter=4
        ),
        "centre": ParagraphStyle("centre", parent=body, alignment=TA_CENTER, textColor=MUTED),
        "marking": ParagraphStyle(
            "marking",
            parent=body,
            fontName=SANS_BOLD,
            alignment=TA_CENTER,
            textColor=colors.HexColor("#9b1c1c"),
        ),
        "h1": ParagraphStyle("h1", parent=heading, fontSize=15, leading=19, spaceBefore=6),
        "h2": ParagraphStyle("h2", parent=heading, fontSize=11.5, leading=15, spaceBefore=9),
        "body": ParagraphStyle("body_spaced", parent=body, spaceAfter=3),
        "note": ParagraphStyle("note", parent=body, fontSize=7.5, leading=9.5, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10),
        "kr": ParagraphStyle("kr", parent=body, fontSize=7.5, leading=9.5),
        "cell_bold": ParagraphStyle(
            "cell_bold", parent=body, fontName=SANS_BOLD, fontSize=8, leading=10
        ),
        "cell_small": ParagraphStyle(
            "cell_small", parent=body, fontSize=7, leading=9, textColor=MUTED
        ),
        "head": ParagraphStyle(
            "head",
            parent=body,
            fontName=SANS_BOLD,
            fontSize=8,
            leading=10,
            textColor=colors.white,
        ),
        "figure": ParagraphStyle(
            "figure", parent=body, fontName=SANS_BOLD, fontSize=16, leading=19
        ),
    }


STYLES = _styles()
# Charts start from ReportLab's default font (Times-Roman, not embedded) unless told.
STATE_DEFAULTS["fontName"] = SANS


def _table_style(commands: list) -> TableStyle:
    """Table commands, with the embedded font for any plain-string cell."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), SANS), *commands])


# Text longer than this cannot be laid out well (a table cell taller than a page, seconds of
# CPU per cell): it is cut with a visible marker. The forms' limits keep real text below it.
TEXT_LIMITS = {"cell": 2_000, "cell_small": 2_000, "body": 10_000}
SHORTENED = " … [shortened here; the full text is in Frontline]"


def _clip(text: str, style: str) -> str:
    limit = TEXT_LIMITS.get(style, 2_000)
    return text if len(text) <= limit else text[:limit].rstrip() + SHORTENED


def _p(text: object, style: str = "cell") -> Paragraph:
    """A paragraph of plain text: escaped (register text is never markup), its line breaks
    kept, characters DejaVu lacks in the fallback font, cut when too long for a page."""
    return Paragraph(markup(_clip(str(text), style)), STYLES[style])


def _heading(text: str, level: int = 0) -> Paragraph:
    """A section heading, kept with what follows and listed in the PDF outline."""
    paragraph = _p(text, "h1" if level == 0 else "h2")
    # Read by the document's afterFlowable; the reportlab stubs know no such attribute.
    paragraph.outline = (text, level)  # type: ignore[attr-defined]
    return paragraph


def _long_date(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def _table(
    header: list[str], rows: list[list], widths: list[float], extra: list | None = None
) -> Table:
    data = [[_p(h, "head") for h in header]] + [
        [cell if isinstance(cell, (Flowable, list)) else _p(cell) for cell in row] for row in rows
    ]
    table = Table(data, colWidths=widths, repeatRows=1, splitInRow=1, hAlign="LEFT")
    table.setStyle(
        _table_style(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
                ("GRID", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                *(extra or []),
            ]
        )
    )
    return table


def _more(more: int, what: str, where: str) -> list:
    """ "… and 1,234 more overdue reviews: <where the rest is>." """
    if more <= 0:
        return []
    return [Spacer(1, 2), _p(f"… and {count(more)} more {what}: {where}.", "note")]


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{count(n)} {singular if n == 1 else (plural or singular + 's')}"


def _unavailable(what: str) -> Paragraph:
    return _p(f"No {what} figures are available in this installation.", "note")


# ---------------------------------------------------------------- charts


def _fit(text: str, font: str, size: float, width: float, minimum: float = 4.5):
    """Shrink ``text`` to ``width`` (down to ``minimum`` points), then shorten it."""
    font = font_for(text, font)
    while size > minimum and stringWidth(text, font, size) > width:
        size -= 0.25
    if stringWidth(text, font, size) > width:
        while len(text) > 1 and stringWidth(text + "…", font, size) > width:
            text = text[:-1]
        text += "…"
    return text, size


def heatmap_drawing(heatmap: HeatMap, title: str, width: float = 80 * mm) -> Drawing:
    """Likelihood (rows, highest on top) by impact (columns), with the count in each cell."""
    matrix = heatmap.matrix
    rows, cols = matrix.max_likelihood, matrix.max_impact
    axis_title = 10
    row_label_width = 46
    top = 16
    bottom_labels = 12
    grid_left = axis_title + row_label_width
    cell_w = (width - grid_left - 2) / cols
    cell_h = min(cell_w * 0.8, 24)
    grid_bottom = axis_title + bottom_labels
    height = grid_bottom + rows * cell_h + top
    d = Drawing(width, height)
    title_text, title_size = _fit(title, SANS_BOLD, 8.5, width)
    d.add(
        String(
            width / 2,
            height - 10,
            title_text,
            fontName=SANS_BOLD,
            fontSize=title_size,
            textAnchor="middle",
            fillColor=INK,
        )
    )
    for likelihood in range(1, rows + 1):
        y = grid_bottom + (likelihood - 1) * cell_h
        label, size = _fit(matrix.likelihood_labels[likelihood - 1], SANS, 6, row_label_width - 3)
        d.add(
            String(
                grid_left - 3,
                y + cell_h / 2 - size / 3,
                label,
                fontName=font_for(label, SANS),
                fontSize=size,
                textAnchor="end",
                fillColor=INK,
            )
        )
        for impact in range(1, cols + 1):
            x = grid_left + (impact - 1) * cell_w
            count = heatmap.count(likelihood, impact)
            cell = Rect(x, y, cell_w, cell_h)
            cell.fillColor = LEVEL_COLOURS[heatmap.level(likelihood, impact)]
            cell.strokeColor = colors.white
            cell.strokeWidth = 1
            d.add(cell)
            text, size = _fit(f"{count:,}", SANS_BOLD, 8, cell_w - 2)
            d.add(
                String(
                    x + cell_w / 2,
                    y + cell_h / 2 - size / 3,
                    text,
                    fontName=SANS_BOLD if count else SANS,
                    fontSize=size,
                    textAnchor="middle",
                    fillColor=INK if count else MUTED,
                )
            )
    for impact in range(1, cols + 1):
        x = grid_left + (impact - 1) * cell_w
        label, size = _fit(matrix.impact_labels[impact - 1], SANS, 6, cell_w - 2)
        d.add(
            String(
                x + cell_w / 2,
                grid_bottom - 8,
                label,
                fontName=font_for(label, SANS),
                fontSize=size,
                textAnchor="middle",
                fillColor=INK,
            )
        )
    d.add(
        String(
            grid_left + cols * cell_w / 2,
            2,
            "Impact",
            fontName=SANS_BOLD,
            fontSize=7.5,
            textAnchor="middle",
            fillColor=INK,
        )
    )
    likelihood_title = String(
        0,
        0,
        "Likelihood",
        fontName=SANS_BOLD,
        fontSize=7.5,
        textAnchor="middle",
        fillColor=INK,
    )
    rotated = Group(likelihood_title)
    rotated.rotate(90)
    rotated.translate(grid_bottom + rows * cell_h / 2, -7)
    d.add(rotated)
    return d


TARGET_INK = colors.HexColor("#102a43")
PROJECTED_INK = colors.HexColor("#829ab1")


def trend_drawing(section: CoverageSection, width: float = FRAME_WIDTH) -> Drawing:
    """SPOF staff, SPOF systems and uncovered systems at each quarter end so far; with a
    coverage key result, its target for the staff solely responsible as a line from the
    baseline over the whole fiscal year, and the projection for the quarters ahead."""
    height = 170 if section.target is not None else 150
    d = Drawing(width, height)
    target = section.target
    labels = [p.quarter for p in section.trend]
    if target is not None:
        labels = [p.quarter for p in target.points]
    measured = {p.quarter: p for p in section.trend}
    chart = VerticalBarChart()
    chart.x, chart.y = 40, 32
    # Fractional points are fine; the stubs type the chart's size as int.
    chart.width, chart.height = width - 190, height - 50  # type: ignore[assignment]
    chart.data = [
        [getattr(measured.get(q), "spof_staff", None) for q in labels],
        [getattr(measured.get(q), "spof_systems", None) for q in labels],
        [getattr(measured.get(q), "uncovered", None) for q in labels],
    ]
    chart.categoryAxis.categoryNames = [
        q if q in measured or target is None else f"{q} (ahead)" for q in labels
    ]
    chart.categoryAxis.labels.fontName = SANS
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    values = [v for series in chart.data for v in series if v is not None]
    if target is not None:
        values += [target.baseline] + [p.target for p in target.points]
        values += [p.projected for p in target.points if p.projected is not None]
    peak = max(values + [1])
    step = max(1, -(-peak // 5))
    chart.valueAxis.valueMax = step * (-(-peak // step)) + step
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontName = SANS
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = lambda value: f"{int(value):,}"
    chart.barSpacing = 1
    chart.groupSpacing = 8
    for i, colour in enumerate(SERIES_COLOURS):
        chart.bars[i].fillColor = colour
        chart.bars[i].strokeColor = None
    chart.barLabelFormat = lambda value: "" if value is None else f"{int(value):,}"
    chart.barLabels.fontName = SANS
    chart.barLabels.fontSize = 6
    chart.barLabels.nudge = 5
    d.add(chart)
    names = ["Staff solely responsible", "SPOF systems", "Uncovered systems"]
    pairs: list = list(zip(SERIES_COLOURS, names, strict=True))
    if target is not None:
        _target_lines(d, chart, target)
        pairs += [
            (TARGET_INK, f"{target.code} target: {target.baseline:,} → {target.goal:,} staff"),
            (PROJECTED_INK, "Projected at the pace so far"),
        ]
    d.add(
        String(
            chart.x + chart.width / 2,
            4,
            "Quarter end",
            fontName=SANS_BOLD,
            fontSize=7.5,
            textAnchor="middle",
            fillColor=INK,
        )
    )
    y_title = Group(
        String(
            0,
            0,
            "Count",
            fontName=SANS_BOLD,
            fontSize=7.5,
            textAnchor="middle",
            fillColor=INK,
        )
    )
    y_title.rotate(90)
    y_title.translate(chart.y + chart.height / 2, -10)
    d.add(y_title)
    legend = Legend()
    legend.x, legend.y = chart.x + chart.width + 15, chart.y + chart.height - 5
    legend.fontName = SANS
    legend.fontSize = 7
    legend.alignment = "right"
    legend.columnMaximum = len(pairs)
    legend.colorNamePairs = pairs
    d.add(legend)
    return d


def _target_lines(d: Drawing, chart: VerticalBarChart, target) -> None:
    """The target as a dashed line from the baseline (an open dot at the year's start)
    through each quarter end, and the projection as a dotted line from the last measured
    count."""
    n = len(target.points)
    low, high = chart.valueAxis.valueMin, chart.valueAxis.valueMax

    def y(value: float) -> float:
        return chart.y + (value - low) / (high - low) * chart.height

    def x(i: int) -> float:
        return chart.x + (i + 0.5) * chart.width / n

    line = [chart.x, y(target.baseline)]
    for i, point in enumerate(target.points):
        line += [x(i), y(point.target)]
    d.add(PolyLine(line, strokeColor=TARGET_INK, strokeWidth=1.2, strokeDashArray=[4, 2]))
    d.add(Circle(chart.x, y(target.baseline), 2.2, fillColor=colors.white, strokeColor=TARGET_INK))
    for i, point in enumerate(target.points):
        d.add(Circle(x(i), y(point.target), 1.8, fillColor=TARGET_INK, strokeColor=None))
        _label(d, x(i) + 3, y(point.target) + 3, f"{point.target:,}", TARGET_INK, bold=True)
    last = max((i for i, p in enumerate(target.points) if p.measured is not None), default=None)
    ahead = [(i, p.projected) for i, p in enumerate(target.points) if p.projected is not None]
    if not ahead:
        return
    start = (
        [x(last), y(target.points[last].measured)]
        if last is not None
        else [chart.x, y(target.baseline)]
    )
    projected = start + [c for i, v in ahead for c in (x(i), y(v))]
    d.add(PolyLine(projected, strokeColor=PROJECTED_INK, strokeWidth=1.2, strokeDashArray=[1, 2]))
    for i, value in ahead:
        d.add(Circle(x(i), y(value), 1.8, fillColor=PROJECTED_INK, strokeColor=None))
        text = f"{value:,}"
        _label(d, x(i) - 3 - stringWidth(text, SANS, 6), y(value) + 3, text, PROJECTED_INK)


def _label(d: Drawing, x: float, y: float, text: str, ink, bold: bool = False) -> None:
    """A small value label on a white ground, legible over the bars it may cross."""
    font = SANS_BOLD if bold else SANS
    ground = Rect(x - 1, y - 1.5, stringWidth(text, font, 6) + 2, 7.5)
    ground.fillColor, ground.strokeColor = colors.white, None
    d.add(ground)
    d.add(String(x, y, text, fontName=font, fontSize=6, fillColor=ink))


# ---------------------------------------------------------------- sections


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
    for r, kr in enumerate(report.key_results or [], start=1):
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
    if report.key_results is None:
        return parts + [_unavailable("key-result")]
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


def _risk_section(report: QuarterReport, risk: RiskSection | None) -> list:
    parts = [CondPageBreak(120 * mm), _heading("Risk")]
    if risk is None:
        return parts + [_unavailable("risk")]
    as_of = _long_date(report.as_of)
    parts.append(
        _p(
            f"{_count(risk.residual.total, 'threat')} in the register on {as_of}; "
            f"{_count(risk.open_critical, 'open critical risk')}; "
            f"{_count(risk.overdue_count, 'review')} overdue.",
            "body",
        )
    )
    half = FRAME_WIDTH / 2 - 4
    maps = Table(
        [
            [
                heatmap_drawing(risk.inherent, f"Inherent risk on {as_of}", half),
                heatmap_drawing(risk.residual, f"Residual risk on {as_of}", half),
            ]
        ],
        colWidths=[FRAME_WIDTH / 2] * 2,
        hAlign="LEFT",
    )
    maps.setStyle(_table_style([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    legend = "   ".join(
        f"{level.label} {lo}-{hi}"
        for level in risk.residual.matrix.levels
        for lo, hi in [risk.residual.matrix.score_range(level)]
    )
    parts += [
        Spacer(1, 4),
        maps,
        _p(
            f"Each cell counts the threats with that likelihood and impact. Levels by score: "
            f"{legend}.",
            "note",
        ),
    ]
    parts.append(_heading(f"Top {len(risk.top_threats)} threats by residual score", 1))
    if risk.top_threats:
        previous = report.quarter.previous().label
        rows = [
            [
                str(t.rank),
                t.title,
                str(t.inherent_score),
                str(t.residual_score),
                t.level.label,
                t.rank_change,
                t.residual_change,
                t.treatment,
            ]
            for t in risk.top_threats
        ]
        fixed = [22, 48, 48, 44, 66, 66, 58]
        parts.append(
            _table(
                [
                    "#",
                    "Threat",
                    "Inherent",
                    "Residual",
                    "Level",
                    f"Rank {previous} → now",
                    f"Residual {previous} → now",
                    "Treatment",
                ],
                rows,
                [fixed[0], FRAME_WIDTH - sum(fixed), *fixed[1:]],
            )
        )
    else:
        parts.append(_p("No open threats were scored on that date.", "body"))
    parts.append(_heading("Reviews overdue", 1))
    if risk.overdue:
        rows = [
            [
                r.title,
                "-" if r.residual_score is None else str(r.residual_score),
                r.due_on.isoformat() if r.due_on else "-",
                r.owner or "-",
            ]
            for r in risk.overdue
        ]
        parts.append(
            _table(
                ["Threat (highest residual first)", "Residual", "Review was due", "Owner"],
                rows,
                [FRAME_WIDTH - 240, 50, 70, 120],
            )
        )
        parts += _more(
            risk.overdue_more,
            "overdue reviews",
            "all of them are on the register's Reviews page (/threats/reviews) and in the "
            "full-register appendix",
        )
    else:
        parts.append(_p("No threat review was overdue.", "body"))
    return parts


def _treatment_rows(cm: CountermeasureSection) -> tuple[list[list], list]:
    """One block per top threat: start, each recorded change, end (start + changes = end)."""
    rows: list[list] = []
    style: list = []
    for t in cm.top_treated:
        first = len(rows) + 1
        rows.append(
            [
                f"#{t.rank} {t.title}",
                "start",
                "",
                str(t.residual_score),
                "residual score at the quarter's start",
            ]
        )
        for step in t.steps:
            if step.countermeasure:
                what = f"Deployed: {step.countermeasure} (credited {count(-step.change)})"
            else:
                what = "Re-scored by hand" + (f": {step.note}" if step.note else " (no note)")
            rows.append(["", step.on.isoformat(), f"{step.change:+d}", str(step.after), what])
        total = (t.end_residual or 0) - t.residual_score
        treated = ", ".join(t.treated_by) or "no countermeasure deployed against it in the quarter"
        rows.append(["", "end", f"{total:+d}", str(t.end_residual), f"Treated by: {treated}"])
        style += [
            ("SPAN", (0, first), (0, len(rows))),
            ("LINEABOVE", (0, first), (-1, first), 0.8, INK),
        ]
    return rows, style


def _countermeasures_section(report: QuarterReport, cm: CountermeasureSection | None) -> list:
    parts = [CondPageBreak(80 * mm), _heading("Countermeasures")]
    if cm is None:
        return parts + [_unavailable("countermeasure")]
    q = report.quarter
    source = f" ({cm.target_source})" if cm.target_source else ""
    if cm.quarter_target is None:
        against = f"no target: the programme's first target quarter comes later{source}"
    else:
        against = f"target {count(cm.quarter_target)}{source}"
    parts.append(
        _table(
            ["Figure", "Value", "Against"],
            [
                [f"Deployed in {q.label}", count(cm.deployed_in_quarter), against],
                [
                    f"Deployed to date in {q.fiscal_year_label}",
                    count(cm.deployed_to_date),
                    f"yearly goal {count(cm.yearly_goal)}{source}",
                ],
                [f"Planned for {q.label} and not deployed", count(cm.slipped_count), ""],
            ],
            [FRAME_WIDTH - 250, 60, 190],
        )
    )
    parts.append(_heading(f"Top threats at the start of {q.label} and their treatment", 1))
    if cm.top_treated:
        rows, style = _treatment_rows(cm)
        parts.append(
            _table(
                ["Threat", "Date", "Change", "Residual", "Recorded as"],
                rows,
                [130, 58, 46, 50, FRAME_WIDTH - 284],
                style,
            )
        )
        parts.append(
            _p(
                "Each block starts from the residual score in force on the quarter's first day; "
                "every recorded change follows, so the start plus the changes gives the end.",
                "note",
            )
        )
    else:
        parts.append(_p("No open threats were scored at the start of the quarter.", "body"))
    parts.append(_heading(f"Deployed in {q.label}", 1))
    if cm.deployed:
        rows = [
            [
                c.title,
                c.deployed_on.isoformat() if c.deployed_on else "-",
                ", ".join(c.top_threats) or "-",
                "-" if c.reduction is None else count(c.reduction),
            ]
            for c in cm.deployed
        ]
        parts.append(
            _table(
                [
                    "Countermeasure (largest reduction first)",
                    "Deployed on",
                    "Top threats it treats",
                    "Residual reduction",
                ],
                rows,
                [FRAME_WIDTH - 70 - 170 - 60, 70, 170, 60],
            )
        )
        parts += _more(
            cm.deployed_more,
            "countermeasures deployed",
            f"the quarter's page (/quarters/{q.slug}) lists every one",
        )
    else:
        parts.append(_p("No countermeasure was deployed in the quarter.", "body"))
    parts.append(_heading("Slipped", 1))
    if cm.slipped:
        rows = [[c.title] for c in cm.slipped]
        parts.append(_table([f"Planned for {q.label}, not deployed"], rows, [FRAME_WIDTH]))
        parts += _more(
            cm.slipped_more,
            "slipped countermeasures",
            f"the quarter's page (/quarters/{q.slug}) lists every one",
        )
    else:
        parts.append(_p("Nothing planned for the quarter slipped.", "body"))
    return parts


def _coverage_section(report: QuarterReport, cov: CoverageSection | None) -> list:
    parts = [CondPageBreak(100 * mm), _heading("SPOF coverage")]
    if cov is None:
        return parts + [_unavailable("coverage")]
    as_of = _long_date(report.as_of)
    rows = [
        ["Staff solely responsible for a production system", count(cov.spof_staff)],
        ["Production systems with a single person (SPOF)", count(cov.spof_systems)],
        ["Production systems with nobody responsible", count(cov.uncovered)],
    ]
    parts.append(_table(["Figure", f"On {as_of}"], rows, [FRAME_WIDTH - 120, 120]))
    parts.append(_heading(f"Trend over {report.quarter.fiscal_year_label}", 1))
    if cov.trend:
        parts.append(trend_drawing(cov))
        if cov.target is not None:
            parts.append(_p(_target_sentence(report, cov.target), "note"))
    else:
        parts.append(_p("No quarter of the fiscal year has ended yet.", "body"))
    parts.append(_heading("Staff solely responsible", 1))
    if cov.sole_responsible:
        rows = [[name, ", ".join(systems)] for name, systems in cov.sole_responsible]
        parts.append(
            _table(
                ["Staff member (most systems first)", "Production systems only they cover"],
                rows,
                [150, FRAME_WIDTH - 150],
            )
        )
        parts += _more(
            cov.sole_more,
            "staff members",
            f"the coverage page (/coverage?date={report.as_of.isoformat()}) lists everyone",
        )
    else:
        parts.append(_p("Nobody is solely responsible for a production system.", "body"))
    parts.append(_heading("Uncovered production systems", 1))
    if cov.uncovered_systems:
        parts.append(
            _table(
                ["System (most critical first)", "Criticality"],
                [[name, level] for name, level in cov.uncovered_systems],
                [FRAME_WIDTH - 90, 90],
            )
        )
        parts += _more(
            cov.uncovered_more,
            "uncovered systems",
            f"the coverage page (/coverage?date={report.as_of.isoformat()}) lists them all",
        )
    else:
        parts.append(_p("Every production system has someone responsible.", "body"))
    return parts


def _target_sentence(report: QuarterReport, target) -> str:
    year = report.quarter.fiscal_year_label
    text = (
        f"{target.code} target: staff solely responsible for a production system from "
        f"{count(target.baseline)} ({target.baseline_label}) to {count(target.goal)} by the "
        f"end of {year}."
    )
    ahead = [p for p in target.points if p.projected is not None]
    if ahead:
        last = ahead[-1]
        text += (
            f" At the pace so far, {count(last.projected)} at the end of {last.quarter} "
            f"(target {count(last.target)})."
        )
    return text


def _attack_block(report: QuarterReport, block: CatalogueBlock) -> list:
    as_of = report.as_of.isoformat()
    parts = [
        _heading(f"{block.name}: ATT&CK coverage", 1),
        _table(
            ["Figure", f"On {_long_date(report.as_of)}"],
            [
                ["Techniques with an open threat", count(block.threatened)],
                ["Techniques mitigated by a deployed countermeasure", count(block.covered)],
                ["Threatened techniques with no deployed countermeasure", count(block.exposed)],
                ["Tactics with no deployed countermeasure", count(len(block.tactics_uncovered))],
            ],
            [FRAME_WIDTH - 120, 120],
        ),
        Spacer(1, 4),
        _table(
            ["Tactic", "Techniques", "Threatened", "Mitigated"],
            [
                [t.name, count(t.techniques), count(t.threatened), count(t.mitigated)]
                for t in block.tactics
            ],
            [FRAME_WIDTH - 210, 70, 70, 70],
        ),
    ]
    if block.exposed_techniques:
        parts += [
            Spacer(1, 4),
            _table(
                ["Exposed technique (worst residual first)", "Open threats", "Worst residual"],
                [
                    [
                        f"{t.ref} {t.name}",
                        count(t.threats),
                        "-" if t.worst_residual is None else str(t.worst_residual),
                    ]
                    for t in block.exposed_techniques
                ],
                [FRAME_WIDTH - 160, 80, 80],
            ),
        ]
        parts += _more(
            block.exposed_more,
            "exposed techniques",
            f"the ATT&CK matrix (/catalogues/{block.library_id}/matrix) shows them all "
            f"as of {as_of}",
        )
    if block.trend:
        parts += [
            Spacer(1, 4),
            _table(
                ["Quarter end", "Threatened techniques with no deployed countermeasure"],
                [[label, count(value)] for label, value in block.trend],
                [100, FRAME_WIDTH - 100],
            ),
        ]
    return parts


def _framework_block(report: QuarterReport, block: CatalogueBlock) -> list:
    parts = [
        _heading(f"{block.name}: controls implemented", 1),
        _p(
            f"{block.percent}% of the framework's controls ({count(block.implemented)} of "
            f"{count(block.controls)}) are implemented by a countermeasure deployed on "
            f"{_long_date(report.as_of)}.",
            "body",
        ),
        Spacer(1, 4),
        _table(
            ["Group", "Controls", "Implemented", "Share"],
            [[name, count(n), count(done), f"{share}%"] for name, n, done, share in block.groups],
            [FRAME_WIDTH - 210, 70, 70, 70],
        ),
    ]
    if block.trend:
        parts += [
            Spacer(1, 4),
            _table(
                ["Quarter end", "Controls implemented"],
                [[label, f"{value}%"] for label, value in block.trend],
                [100, FRAME_WIDTH - 100],
            ),
        ]
    return parts


def _catalogues_section(report: QuarterReport, section: CatalogueSection | None) -> list:
    parts = [CondPageBreak(80 * mm), _heading("ATT&CK and control frameworks")]
    if section is None:
        return parts + [_unavailable("catalogue")]
    if not section.blocks:
        return parts + [_p("The catalogue the key results link is no longer imported.", "body")]
    for block in section.blocks:
        if block.kind == "attack":
            parts += _attack_block(report, block)
        else:
            parts += _framework_block(report, block)
    return parts


def _hiring_section(report: QuarterReport, cov: CoverageSection | None) -> list:
    parts = [CondPageBreak(60 * mm), _heading("SPOF hiring")]
    if cov is None:
        return parts + [_unavailable("hiring")]
    as_of = _long_date(report.as_of)
    filled = count(cov.positions_filled)
    if cov.positions_goal:
        share = round(100 * cov.positions_filled / cov.positions_goal)
        filled = f"{filled} of {count(cov.positions_goal)} positions filled ({share}%)"
    parts.append(
        _table(
            ["Figure", f"On {as_of}"],
            [
                ["SPOF positions filled", filled],
                ["SPOF positions in active hiring", count(cov.positions_active_hiring)],
                ["SPOF positions in final stages", count(cov.positions_final_stages)],
            ],
            [FRAME_WIDTH - 180, 180],
        )
    )
    parts.append(_heading("Hiring pipeline", 1))
    # One row, read left to right as positions move through hiring: two lines of table
    # rather than six keep the section on the page the hiring figures start on.
    if cov.pipeline:
        width = FRAME_WIDTH / len(cov.pipeline)
        parts.append(
            _table(
                [label for label, _ in cov.pipeline],
                [[count(n) for _, n in cov.pipeline]],
                [width] * len(cov.pipeline),
            )
        )
    return parts


# ---------------------------------------------------------------- document

PAGE_COUNT_FORM = "page_count"


class ReportCanvas(Canvas):
    """A canvas whose initial font is embedded, and whose "of m" is one form XObject that
    every page refers to and that is drawn once the last page is known."""

    def __init__(self, *args, stamp: str = "", **kwargs):
        kwargs["initialFontName"] = kwargs.get("initialFontName") or SANS
        super().__init__(*args, **kwargs)
        if stamp:
            self.setDateFormatter(lambda *_: stamp)

    def save(self):
        self.beginForm(PAGE_COUNT_FORM)
        self.setFillColor(MUTED)
        self.setFont(SANS, 7.5)
        self.drawString(0, 0, str(self.getPageNumber() - 1))
        self.endForm()
        super().save()


class ReportDocument(BaseDocTemplate):
    """Portrait pages for the report, landscape pages for the register appendix; every
    heading marked with ``outline`` becomes a bookmark. ``more`` tops up the story while
    it is laid out (the appendix streams in chunks instead of being built up front)."""

    def __init__(self, *args, decorate, more: Iterable | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._more = iter(more) if more is not None else None
        self._bookmarks = 0
        portrait = Frame(
            MARGIN, 18 * mm, FRAME_WIDTH, PAGE_HEIGHT - 38 * mm, id="portrait", showBoundary=0
        )
        wide = Frame(
            MARGIN, 18 * mm, LANDSCAPE_WIDTH, PAGE_WIDTH - 38 * mm, id="landscape", showBoundary=0
        )
        self.addPageTemplates(
            [
                PageTemplate("portrait", [portrait], onPage=decorate, pagesize=A4),
                PageTemplate("landscape", [wide], onPage=decorate, pagesize=landscape(A4)),
            ]
        )

    def build(self, flowables, *args, **kwargs):
        self._story = flowables
        super().build(flowables, *args, **kwargs)

    def handle_flowable(self, flowables):
        # Only the story is topped up (ReportLab also passes its own lists through here).
        if self._more is not None and flowables is self._story and len(flowables) < 2:
            chunk = next(self._more, None)
            if chunk is None:
                self._more = None
            else:
                flowables.extend(chunk)
        super().handle_flowable(flowables)

    def afterFlowable(self, flowable):  # noqa: N802 - ReportLab API name
        outline = getattr(flowable, "outline", None)
        if outline is None:
            return
        title, level = outline
        self._bookmarks += 1
        key = f"section-{self._bookmarks}"
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(title, key, level=level, closed=False)


def _decorator(report: QuarterReport, generated_on: date, marking: str):
    header_left = f"{report.objective_title} — {report.quarter.label}"
    footer_left = f"Frontline · generated on {generated_on.isoformat()}"

    def decorate(canvas: Canvas, doc) -> None:
        # This page's own size (portrait or landscape); the reportlab stubs omit it.
        width, height = canvas._pagesize  # type: ignore[attr-defined]
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        top = height - 12 * mm
        canvas.line(MARGIN, top - 2, width - MARGIN, top - 2)
        canvas.line(MARGIN, 13 * mm, width - MARGIN, 13 * mm)
        canvas.setFillColor(MUTED)
        half = (width - 2 * MARGIN) / 2 - 6
        text, size = _fit(header_left, SANS, 7.5, half)
        draw_text(canvas, MARGIN, top + 2, text, SANS, size)
        text, size = _fit(marking, SANS_BOLD, 7.5, half)
        draw_text(canvas, width - MARGIN, top + 2, text, SANS_BOLD, size, anchor="end")
        draw_text(canvas, MARGIN, 9 * mm, footer_left, SANS, 7.5)
        label = f"Page {canvas.getPageNumber()} of "
        x = width - MARGIN - stringWidth("Page 99999 of 99999", SANS, 7.5)
        draw_text(canvas, x, 9 * mm, label, SANS, 7.5)
        canvas.translate(x + stringWidth(label, SANS, 7.5), 9 * mm)
        canvas.doForm(PAGE_COUNT_FORM)
        canvas.restoreState()

    return decorate


def build_report_pdf(
    report: QuarterReport,
    generated_on: date,
    marking: str,
    signoff: SignOff | None = None,
    appendix=None,
) -> bytes:
    """The quarter's report as PDF bytes; same report and date give the same bytes.

    ``appendix``: an ``app.reports.appendix.RegisterAppendix`` to add the full register
    on landscape pages after the report."""
    buffer = io.BytesIO()
    stamp = generated_on.strftime("D:%Y%m%d000000+00'00'")
    more = appendix.flowables() if appendix is not None else None
    doc = ReportDocument(
        buffer,
        decorate=_decorator(report, generated_on, marking),
        more=more,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=f"{report.objective_title} — {report.quarter.label}",
        author="Frontline",
        subject=f"Quarterly report, {report.quarter.label}",
        creator="Frontline",
        invariant=1,
    )
    story = _cover(report, generated_on, marking, signoff or SignOff())
    story += _objective_section(report)
    story += _key_results_section(report)
    if report.shows(RISK):
        story += _risk_section(report, report.risk)
    if report.shows(COUNTERMEASURES):
        story += _countermeasures_section(report, report.countermeasures)
    if report.shows(COVERAGE):
        story += _coverage_section(report, report.coverage)
    if report.shows(HIRING):
        story += _hiring_section(report, report.coverage)
    if report.shows(CATALOGUES):
        story += _catalogues_section(report, report.catalogues)
    if appendix is not None:
        story += [NextPageTemplate("landscape"), PageBreak()]
    doc.build(story, canvasmaker=lambda *a, **k: ReportCanvas(*a, stamp=stamp, **k))
    return buffer.getvalue()
