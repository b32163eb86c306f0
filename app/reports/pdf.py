"""The quarterly report as a PDF: ReportLab platypus for the document, graphics for charts.

``build_report_pdf`` lays out a ``QuarterReport`` (values gathered elsewhere) and returns
the document's bytes. It computes nothing the dashboard would compute differently. The
output is reproducible: ReportLab's invariant mode plus a creation date taken from
``generated_on`` give the same bytes for the same report and date.
"""

from __future__ import annotations

import io
from datetime import date
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Group, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from app.domain.scoring import Level
from app.models.okrs import Rating
from app.reports.quarter_report import (
    CountermeasureSection,
    CoverageSection,
    HeatMap,
    QuarterReport,
    RiskSection,
)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN

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
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontSize=9.5, leading=13, textColor=INK)
    return {
        "title": ParagraphStyle(
            "title", parent=base["Title"], fontSize=26, leading=32, textColor=INK, spaceAfter=6
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=body, fontSize=15, leading=20, alignment=TA_CENTER, spaceAfter=4
        ),
        "centre": ParagraphStyle("centre", parent=body, alignment=TA_CENTER, textColor=MUTED),
        "marking": ParagraphStyle(
            "marking",
            parent=body,
            fontName="Helvetica-Bold",
            alignment=TA_CENTER,
            textColor=colors.HexColor("#9b1c1c"),
        ),
        "h1": ParagraphStyle(
            "h1", parent=base["Heading1"], fontSize=16, leading=20, textColor=INK, spaceBefore=4
        ),
        "h2": ParagraphStyle(
            "h2", parent=base["Heading2"], fontSize=12, leading=15, textColor=INK, spaceBefore=8
        ),
        "body": body,
        "note": ParagraphStyle("note", parent=body, fontSize=8, leading=10, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10, spaceAfter=0),
        "cell_small": ParagraphStyle(
            "cell_small", parent=body, fontSize=7, leading=9, textColor=MUTED
        ),
        "head": ParagraphStyle(
            "head",
            parent=body,
            fontName="Helvetica-Bold",
            fontSize=8,
            leading=10,
            textColor=colors.white,
        ),
    }


STYLES = _styles()


# Text longer than this cannot be laid out well (a table cell taller than a page, seconds of
# CPU per cell): it is cut with a visible marker. The forms' limits keep real text below it.
TEXT_LIMITS = {"cell": 2_000, "cell_small": 2_000, "body": 10_000}
SHORTENED = " … [shortened here; the full text is in Frontline]"


def _clip(text: str, style: str) -> str:
    limit = TEXT_LIMITS.get(style, 2_000)
    return text if len(text) <= limit else text[:limit].rstrip() + SHORTENED


def _p(text: object, style: str = "cell") -> Paragraph:
    """A paragraph of plain text (escaped: register text is never markup)."""
    return Paragraph(escape(_clip(str(text), style)), STYLES[style])


def _long_date(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def _table(
    header: list[str], rows: list[list], widths: list[float], extra: list | None = None
) -> Table:
    data = [[_p(h, "head") for h in header]] + [
        [cell if isinstance(cell, Paragraph) else _p(cell) for cell in row] for row in rows
    ]
    table = Table(data, colWidths=widths, repeatRows=1, splitInRow=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
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


def _more(count: int, what: str) -> list:
    if count <= 0:
        return []
    return [Spacer(1, 2), _p(f"… and {count} more {what}.", "note")]


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _unavailable(what: str) -> Paragraph:
    return _p(f"No {what} figures are available in this installation.", "note")


# ---------------------------------------------------------------- charts


def _fit(text: str, font: str, size: float, width: float, minimum: float = 4.5):
    """Shrink ``text`` to ``width`` (down to ``minimum`` points), then shorten it."""
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
    title_text, title_size = _fit(title, "Helvetica-Bold", 8.5, width)
    d.add(
        String(
            width / 2,
            height - 10,
            title_text,
            fontName="Helvetica-Bold",
            fontSize=title_size,
            textAnchor="middle",
            fillColor=INK,
        )
    )
    for likelihood in range(1, rows + 1):
        y = grid_bottom + (likelihood - 1) * cell_h
        label, size = _fit(
            matrix.likelihood_labels[likelihood - 1], "Helvetica", 6, row_label_width - 3
        )
        d.add(
            String(
                grid_left - 3,
                y + cell_h / 2 - size / 3,
                label,
                fontName="Helvetica",
                fontSize=size,
                textAnchor="end",
                fillColor=INK,
            )
        )
        for impact in range(1, cols + 1):
            x = grid_left + (impact - 1) * cell_w
            count = heatmap.count(likelihood, impact)
            d.add(
                Rect(
                    x,
                    y,
                    cell_w,
                    cell_h,
                    fillColor=LEVEL_COLOURS[heatmap.level(likelihood, impact)],
                    strokeColor=colors.white,
                    strokeWidth=1,
                )
            )
            text, size = _fit(str(count), "Helvetica-Bold", 8, cell_w - 2)
            d.add(
                String(
                    x + cell_w / 2,
                    y + cell_h / 2 - size / 3,
                    text,
                    fontName="Helvetica-Bold" if count else "Helvetica",
                    fontSize=size,
                    textAnchor="middle",
                    fillColor=INK if count else MUTED,
                )
            )
    for impact in range(1, cols + 1):
        x = grid_left + (impact - 1) * cell_w
        label, size = _fit(matrix.impact_labels[impact - 1], "Helvetica", 6, cell_w - 2)
        d.add(
            String(
                x + cell_w / 2,
                grid_bottom - 8,
                label,
                fontName="Helvetica",
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
            fontName="Helvetica-Bold",
            fontSize=7.5,
            textAnchor="middle",
            fillColor=INK,
        )
    )
    likelihood_title = String(
        0,
        0,
        "Likelihood",
        fontName="Helvetica-Bold",
        fontSize=7.5,
        textAnchor="middle",
        fillColor=INK,
    )
    rotated = Group(likelihood_title)
    rotated.rotate(90)
    rotated.translate(grid_bottom + rows * cell_h / 2, -7)
    d.add(rotated)
    return d


def trend_drawing(section: CoverageSection, width: float = FRAME_WIDTH) -> Drawing:
    """SPOF staff, SPOF systems and uncovered systems at each quarter end so far."""
    height = 150
    d = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 40, 32
    chart.width, chart.height = width - 190, height - 50
    chart.data = [
        [p.spof_staff for p in section.trend],
        [p.spof_systems for p in section.trend],
        [p.uncovered for p in section.trend],
    ]
    chart.categoryAxis.categoryNames = [p.quarter for p in section.trend]
    chart.categoryAxis.labels.fontName = "Helvetica"
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    peak = max([max(series) for series in chart.data if series] + [1])
    step = max(1, -(-peak // 5))
    chart.valueAxis.valueMax = step * (-(-peak // step)) + step
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontName = "Helvetica"
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d"
    chart.barSpacing = 1
    chart.groupSpacing = 8
    for i, colour in enumerate(SERIES_COLOURS):
        chart.bars[i].fillColor = colour
        chart.bars[i].strokeColor = None
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = "Helvetica"
    chart.barLabels.fontSize = 6
    chart.barLabels.nudge = 5
    d.add(chart)
    d.add(
        String(
            chart.x + chart.width / 2,
            4,
            "Quarter end",
            fontName="Helvetica-Bold",
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
            fontName="Helvetica-Bold",
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
    legend.fontName = "Helvetica"
    legend.fontSize = 7
    legend.alignment = "right"
    legend.colorNamePairs = list(
        zip(
            SERIES_COLOURS,
            ("Staff solely responsible", "SPOF systems", "Uncovered systems"),
            strict=True,
        )
    )
    d.add(legend)
    return d


# ---------------------------------------------------------------- sections


def _title_page(report: QuarterReport, generated_on: date, marking: str) -> list:
    parts = [
        Spacer(1, 55 * mm),
        Paragraph(escape(report.objective_title), STYLES["title"]),
        Paragraph(escape(f"Quarterly report — {report.quarter.label}"), STYLES["subtitle"]),
    ]
    if report.department:
        parts.append(_p(report.department, "centre"))
    parts += [
        Spacer(1, 10 * mm),
        _p(f"Figures as of {_long_date(report.as_of)}", "centre"),
        _p(f"Generated on {_long_date(generated_on)}", "centre"),
    ]
    if report.in_progress:
        parts.append(
            _p(
                f"{report.quarter.label} is still in progress: figures may change "
                f"until {_long_date(report.quarter.last_day)}.",
                "centre",
            )
        )
    if marking:
        parts += [Spacer(1, 20 * mm), _p(marking, "marking")]
    parts.append(PageBreak())
    return parts


def _objective_section(report: QuarterReport) -> list:
    parts = [Paragraph("Objective", STYLES["h1"])]
    parts.append(_p(report.statement or "No objective statement has been written.", "body"))
    parts.append(Paragraph(escape(f"Progress in {report.quarter.label}"), STYLES["h2"]))
    paragraphs = [p.strip() for p in report.narrative.split("\n") if p.strip()]
    if not paragraphs:
        paragraphs = ["No narrative has been written for this quarter."]
    for text in paragraphs:
        parts += [_p(text, "body"), Spacer(1, 3)]
    return parts


def kr_table(report: QuarterReport) -> Table:
    """The deck's layout: Key Results | Goal | Q1 | Q2 | Q3 | Q4; rating as cell colour."""
    # Wide enough that a word such as "countermeasures" never breaks inside a status.
    quarter_width, goal_width = 70, 78
    widths = [FRAME_WIDTH - goal_width - 4 * quarter_width, goal_width] + [quarter_width] * 4
    rows = []
    extra = []
    for r, kr in enumerate(report.key_results or [], start=1):
        row = [_p(kr.title), _p(kr.goal or "-")]
        for c, cell in enumerate(kr.cells, start=2):
            content = [_p(cell.text or "-")]
            if kr.linked and cell.value_text:
                content.append(_p(f"Register: {cell.value_text}", "cell_small"))
            row.append(content)
            if cell.rating in RATING_COLOURS:
                extra.append(("BACKGROUND", (c, r), (c, r), RATING_COLOURS[cell.rating]))
        rows.append(row)
    header = ["Key Results", "Goal", *report.quarter_labels]
    data = [[_p(h, "head") for h in header]] + rows
    table = Table(data, colWidths=widths, repeatRows=1, splitInRow=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
                ("GRID", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                *extra,
            ]
        )
    )
    return table


def _rating_legend() -> Table:
    row: list = [_p("Rating:", "cell_small")]
    style = [("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 3)]
    for rating, colour in RATING_COLOURS.items():
        column = len(row)
        row += ["", _p(rating.label, "cell_small")]
        style += [
            ("BACKGROUND", (column, 0), (column, 0), colour),
            ("BOX", (column, 0), (column, 0), 0.4, RULE),
        ]
    legend = Table([row], colWidths=[34] + [10, 52] * len(RATING_COLOURS), hAlign="LEFT")
    legend.setStyle(TableStyle(style))
    return legend


def _key_results_section(report: QuarterReport) -> list:
    parts = [
        CondPageBreak(60 * mm),
        Paragraph(escape(f"Key results — {report.quarter.fiscal_year_label}"), STYLES["h1"]),
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
    return parts


def _risk_section(report: QuarterReport, risk: RiskSection | None) -> list:
    parts = [PageBreak(), Paragraph("Risk", STYLES["h1"])]
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
    maps.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
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
    parts.append(
        Paragraph(escape(f"Top {len(risk.top_threats)} threats by residual score"), STYLES["h2"])
    )
    if risk.top_threats:
        previous = report.quarter.previous().label
        rows = [
            [
                str(t.rank),
                t.title,
                str(t.inherent_score),
                str(t.residual_score),
                t.level.label,
                t.movement
                + (f" (was #{t.previous_rank})" if t.previous_rank not in (None, t.rank) else ""),
                t.treatment,
            ]
            for t in risk.top_threats
        ]
        parts.append(
            _table(
                ["#", "Threat", "Inherent", "Residual", "Level", f"Since {previous}", "Treatment"],
                rows,
                [18, FRAME_WIDTH - 18 - 42 - 42 - 44 - 82 - 62, 42, 42, 44, 82, 62],
            )
        )
    else:
        parts.append(_p("No open threats were scored on that date.", "body"))
    parts.append(Paragraph("Reviews overdue", STYLES["h2"]))
    if risk.overdue:
        rows = [
            [r.title, r.due_on.isoformat() if r.due_on else "-", r.owner or "-"]
            for r in risk.overdue
        ]
        parts.append(
            _table(["Threat", "Review was due", "Owner"], rows, [FRAME_WIDTH - 190, 70, 120])
        )
        parts += _more(risk.overdue_more, "overdue reviews")
    else:
        parts.append(_p("No threat review was overdue.", "body"))
    return parts


def _countermeasures_section(report: QuarterReport, cm: CountermeasureSection | None) -> list:
    parts = [CondPageBreak(80 * mm), Paragraph("Countermeasures", STYLES["h1"])]
    if cm is None:
        return parts + [_unavailable("countermeasure")]
    q = report.quarter
    parts.append(
        _table(
            ["Figure", "Value", "Against"],
            [
                [
                    f"Deployed in {q.label}",
                    str(cm.deployed_in_quarter),
                    f"target {cm.quarter_target}",
                ],
                [
                    f"Deployed to date in {q.fiscal_year_label}",
                    str(cm.deployed_to_date),
                    f"yearly goal {cm.yearly_goal}",
                ],
                [f"Planned for {q.label} and not deployed", str(cm.slipped_count), ""],
            ],
            [FRAME_WIDTH - 200, 60, 140],
        )
    )
    parts.append(Paragraph(escape(f"Deployed in {q.label}"), STYLES["h2"]))
    if cm.deployed:
        rows = [
            [
                c.title,
                c.deployed_on.isoformat() if c.deployed_on else "-",
                ", ".join(c.top_threats) or "-",
                "-" if c.reduction is None else str(c.reduction),
            ]
            for c in cm.deployed
        ]
        parts.append(
            _table(
                ["Countermeasure", "Deployed on", "Top threats it treats", "Residual reduction"],
                rows,
                [FRAME_WIDTH - 70 - 170 - 60, 70, 170, 60],
            )
        )
        parts += _more(cm.deployed_more, "countermeasures deployed")
    else:
        parts.append(_p("No countermeasure was deployed in the quarter.", "body"))
    parts.append(
        Paragraph(
            escape(f"Top threats at the start of {q.label} and their treatment"), STYLES["h2"]
        )
    )
    if cm.top_treated:
        rows = [
            [
                t.title,
                str(t.residual_score),
                ", ".join(t.treated_by) or "Not treated in the quarter",
            ]
            for t in cm.top_treated
        ]
        parts.append(
            _table(
                ["Threat", "Residual", "Countermeasures deployed in the quarter"],
                rows,
                [FRAME_WIDTH - 50 - 200, 50, 200],
            )
        )
    else:
        parts.append(_p("No open threats were scored at the start of the quarter.", "body"))
    parts.append(Paragraph("Slipped", STYLES["h2"]))
    if cm.slipped:
        rows = [[c.title] for c in cm.slipped]
        parts.append(_table([f"Planned for {q.label}, not deployed"], rows, [FRAME_WIDTH]))
        parts += _more(cm.slipped_more, "slipped countermeasures")
    else:
        parts.append(_p("Nothing planned for the quarter slipped.", "body"))
    return parts


def _coverage_section(report: QuarterReport, cov: CoverageSection | None) -> list:
    parts = [PageBreak(), Paragraph("SPOF coverage", STYLES["h1"])]
    if cov is None:
        return parts + [_unavailable("coverage")]
    as_of = _long_date(report.as_of)
    goal = f" of {cov.positions_goal}" if cov.positions_goal else ""
    parts.append(
        _table(
            ["Figure", f"On {as_of}"],
            [
                ["Staff solely responsible for a production system", str(cov.spof_staff)],
                ["Production systems with a single person (SPOF)", str(cov.spof_systems)],
                ["Production systems with nobody responsible", str(cov.uncovered)],
                [f"SPOF positions filled{goal}", str(cov.positions_filled)],
                ["SPOF positions in active hiring", str(cov.positions_active_hiring)],
                ["SPOF positions in final stages", str(cov.positions_final_stages)],
            ],
            [FRAME_WIDTH - 120, 120],
        )
    )
    parts.append(Paragraph(escape(f"Trend over {report.quarter.fiscal_year_label}"), STYLES["h2"]))
    if cov.trend:
        parts.append(trend_drawing(cov))
    else:
        parts.append(_p("No quarter of the fiscal year has ended yet.", "body"))
    parts.append(Paragraph("Staff solely responsible", STYLES["h2"]))
    if cov.sole_responsible:
        rows = [[name, ", ".join(systems)] for name, systems in cov.sole_responsible]
        parts.append(
            _table(
                ["Staff member", "Production systems only they cover"],
                rows,
                [150, FRAME_WIDTH - 150],
            )
        )
        parts += _more(cov.sole_more, "staff members")
    else:
        parts.append(_p("Nobody is solely responsible for a production system.", "body"))
    parts.append(Paragraph("Uncovered production systems", STYLES["h2"]))
    if cov.uncovered_systems:
        parts.append(_table(["System"], [[name] for name in cov.uncovered_systems], [FRAME_WIDTH]))
        parts += _more(cov.uncovered_more, "uncovered systems")
    else:
        parts.append(_p("Every production system has someone responsible.", "body"))
    parts.append(Paragraph("Hiring pipeline", STYLES["h2"]))
    parts.append(
        KeepTogether(
            _table(
                ["Status", "Positions"],
                [[label, str(count)] for label, count in cov.pipeline],
                [150, 70],
            )
        )
    )
    return parts


# ---------------------------------------------------------------- document


def _page_canvas(report: QuarterReport, generated_on: date, marking: str):
    """A canvas class that draws header and footer with "Page n of m" once all pages exist."""
    header_left = f"{report.objective_title} — {report.quarter.label}"
    footer_left = f"Frontline · generated on {generated_on.isoformat()}"
    stamp = generated_on.strftime("D:%Y%m%d000000+00'00'")

    class ReportCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []
            self.setDateFormatter(lambda *_: stamp)

        def showPage(self):  # noqa: N802 - ReportLab API name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, total)
                Canvas.showPage(self)
            Canvas.save(self)

        def _decorate(self, number: int, total: int) -> None:
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            top = PAGE_HEIGHT - 12 * mm
            self.line(MARGIN, top - 2, PAGE_WIDTH - MARGIN, top - 2)
            self.line(MARGIN, 13 * mm, PAGE_WIDTH - MARGIN, 13 * mm)
            self.setFillColor(MUTED)
            self.setFont("Helvetica", 7.5)
            half = FRAME_WIDTH / 2 - 6
            text, size = _fit(header_left, "Helvetica", 7.5, half)
            self.setFont("Helvetica", size)
            self.drawString(MARGIN, top + 2, text)
            text, size = _fit(marking, "Helvetica-Bold", 7.5, half)
            self.setFont("Helvetica-Bold", size)
            self.drawRightString(PAGE_WIDTH - MARGIN, top + 2, text)
            self.setFont("Helvetica", 7.5)
            self.drawString(MARGIN, 9 * mm, footer_left)
            self.drawRightString(PAGE_WIDTH - MARGIN, 9 * mm, f"Page {number} of {total}")
            self.restoreState()

    return ReportCanvas


def build_report_pdf(report: QuarterReport, generated_on: date, marking: str) -> bytes:
    """The quarter's report as PDF bytes; same report and date give the same bytes."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
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
    story = _title_page(report, generated_on, marking)
    story += _objective_section(report)
    story += _key_results_section(report)
    story += _risk_section(report, report.risk)
    story += _countermeasures_section(report, report.countermeasures)
    story += _coverage_section(report, report.coverage)
    doc.build(story, canvasmaker=_page_canvas(report, generated_on, marking))
    return buffer.getvalue()
