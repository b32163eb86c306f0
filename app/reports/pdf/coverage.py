"""The coverage section: single points of failure and the trend against the target."""

from __future__ import annotations

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Circle, Drawing, Group, PolyLine, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import CondPageBreak

from app.reports.pdf.layout import (
    FRAME_WIDTH,
    INK,
    SERIES_COLOURS,
    _heading,
    _label,
    _listed,
    _long_date,
    _p,
    _table,
)
from app.reports.quarter_report.values import CoverageSection, QuarterReport, count
from app.reports.typefaces import SANS, SANS_BOLD

TARGET_INK = colors.HexColor("#102a43")
PROJECTED_INK = colors.HexColor("#829ab1")


def _value_axis(chart: VerticalBarChart, target) -> None:
    """A count axis from 0 in round steps, high enough for the bars, the target and the
    projection."""
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


def _trend_axis_titles(d: Drawing, chart: VerticalBarChart) -> None:
    """The axis titles: Quarter end under the bars, Count turned up the left side."""
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
    _value_axis(chart, target)
    chart.barSpacing = 1
    chart.groupSpacing = 8
    for i, colour in enumerate(SERIES_COLOURS):
        chart.bars[i].fillColor = colour
        chart.bars[i].strokeColor = None
    if target is None:
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
            (
                TARGET_INK,
                f"{target.code} target: {target.baseline:,} → {target.goal:,} staff\n(dashed line)",
            ),
            (PROJECTED_INK, "Projected at the pace so far\n(dotted line)"),
        ]
    _trend_axis_titles(d, chart)
    legend = Legend()
    legend.x, legend.y = chart.x + chart.width + 15, chart.y + chart.height - 5
    legend.fontName = SANS
    legend.fontSize = 7
    legend.alignment = "right"
    legend.columnMaximum = len(pairs)
    legend.colorNamePairs = pairs
    d.add(legend)
    return d


Box = tuple[float, float, float, float]  # left, bottom, right, top
Line = list[tuple[float, float]]


def _target_lines(d: Drawing, chart: VerticalBarChart, target) -> None:
    """The target as a dashed line from the baseline (an open dot at the year's start)
    through each quarter end, and the projection as a dotted line from the last measured
    count; then every value label, bars' and lines', where none meets another or a line."""
    n = len(target.points)
    low, high = chart.valueAxis.valueMin, chart.valueAxis.valueMax

    def y(value: float) -> float:
        return chart.y + (value - low) / (high - low) * chart.height

    def x(i: int) -> float:
        return chart.x + (i + 0.5) * chart.width / n

    line: Line = [(chart.x, y(target.baseline))] + [
        (x(i), y(p.target)) for i, p in enumerate(target.points)
    ]
    lines = [line]
    d.add(PolyLine(_flat(line), strokeColor=TARGET_INK, strokeWidth=1.2, strokeDashArray=[4, 2]))
    d.add(Circle(chart.x, y(target.baseline), 2.2, fillColor=colors.white, strokeColor=TARGET_INK))
    for i, point in enumerate(target.points):
        d.add(Circle(x(i), y(point.target), 1.8, fillColor=TARGET_INK, strokeColor=None))
    last = max((i for i, p in enumerate(target.points) if p.measured is not None), default=None)
    ahead = [(i, p.projected) for i, p in enumerate(target.points) if p.projected is not None]
    if ahead:
        start = (x(last), y(target.points[last].measured)) if last is not None else line[0]
        projected: Line = [start] + [(x(i), y(v)) for i, v in ahead]
        lines.append(projected)
        dotted = PolyLine(_flat(projected), strokeColor=PROJECTED_INK, strokeWidth=1.2)
        dotted.strokeDashArray = [1, 2]
        d.add(dotted)
        for i, value in ahead:
            d.add(Circle(x(i), y(value), 1.8, fillColor=PROJECTED_INK, strokeColor=None))
    placed = _bar_labels(d, chart, lines)
    for i, point in enumerate(target.points):
        _point_label(d, (x(i), y(point.target)), f"{point.target:,}", TARGET_INK, placed, lines)
    for i, value in ahead:
        _point_label(d, (x(i), y(value)), f"{value:,}", PROJECTED_INK, placed, lines, left=True)


def _flat(line: Line) -> list[float]:
    return [c for point in line for c in point]


def _box(x: float, y: float, text: str, bold: bool) -> Box:
    """Where `_label` draws `text` with its white ground."""
    return (x - 1, y - 1.5, x + stringWidth(text, SANS_BOLD if bold else SANS, 6) + 1, y + 6)


def _in_the_way(box: Box, placed: list[Box], lines: list[Line]) -> float | None:
    """The top of the first label or line `box` meets (so a label can rise above it), or
    None where it is clear."""
    left, bottom, right, top = box
    for other in placed:
        if left < other[2] and other[0] < right and bottom < other[3] and other[1] < top:
            return other[3]
    for line in lines:
        heights = [
            y0 + (y1 - y0) * (at - x0) / (x1 - x0)
            for (x0, y0), (x1, y1) in zip(line, line[1:], strict=False)
            for at in (max(left, x0), min(right, x1))
            if max(left, x0) <= min(right, x1) and x1 != x0
        ]
        if heights and min(heights) <= top + 1 and max(heights) >= bottom - 1:
            return max(heights) + 1
    return None


def _rise(x: float, y: float, text: str, bold: bool, placed, lines) -> float:
    """`y`, or the first height above it where the label meets nothing drawn so far."""
    for _ in range(2 * len(placed) + 2 * len(lines) + 1):
        top = _in_the_way(_box(x, y, text, bold), placed, lines)
        if top is None:
            break
        y = top + 1.5
    return y


def _bar_labels(d: Drawing, chart: VerticalBarChart, lines: list[Line]) -> list[Box]:
    """Each bar's count just above it, lifted over a line or a neighbour's count it would
    meet. Returns where the labels went."""
    chart.draw()  # lays the bars out: _barPositions
    placed: list[Box] = []
    # Set by draw(); the stubs do not know it.
    positions = chart._barPositions  # type: ignore[attr-defined]
    for row, bars in zip(chart.data, positions, strict=True):
        for value, (left, bottom, width, height) in zip(row, bars, strict=True):
            if value is None:
                continue
            text = f"{int(value):,}"
            x = left + width / 2 - stringWidth(text, SANS, 6) / 2
            y = _rise(x, bottom + height + 2.5, text, False, placed, lines)
            _label(d, x, y, text, colors.black)
            placed.append(_box(x, y, text, False))
    return placed


def _point_label(d, dot, text, ink, placed, lines, left: bool = False) -> None:
    """A line's value beside its dot: the first of above right, below right, above left,
    below left (left first for the projection) that meets no label and no line; else
    above right, lifted clear."""
    bold = ink == TARGET_INK
    width = stringWidth(text, SANS_BOLD if bold else SANS, 6)
    right_x, left_x = dot[0] + 3, dot[0] - 3 - width
    above, below = dot[1] + 3, dot[1] - 9
    spots = [(right_x, above), (right_x, below), (left_x, above), (left_x, below)]
    if left:
        spots = spots[2:] + spots[:2]
    x, y = next(
        (s for s in spots if _in_the_way(_box(*s, text, bold), placed, lines) is None),
        (spots[0][0], _rise(*spots[0], text, bold, placed, lines)),
    )
    _label(d, x, y, text, ink, bold=bold)
    placed.append(_box(x, y, text, bold))


def _coverage_section(report: QuarterReport, cov: CoverageSection) -> list:
    parts = [CondPageBreak(100 * mm), _heading("SPOF coverage")]
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
    page = f"the coverage page (/coverage?date={report.as_of.isoformat()})"
    parts += _listed(
        "Staff solely responsible",
        "Nobody is solely responsible for a production system.",
        [[name, ", ".join(systems)] for name, systems in cov.sole_responsible],
        ["Staff member (most systems first)", "Production systems only they cover"],
        [150, FRAME_WIDTH - 150],
        more=(cov.sole_more, "staff members", f"{page} lists everyone"),
    )
    parts += _listed(
        "Uncovered production systems",
        "Every production system has someone responsible.",
        [[name, level] for name, level in cov.uncovered_systems],
        ["System (most critical first)", "Criticality"],
        [FRAME_WIDTH - 90, 90],
        more=(cov.uncovered_more, "uncovered systems", f"{page} lists them all"),
    )
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
