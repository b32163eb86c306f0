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
