"""The coverage trend chart: every value label readable, none on another or on a line."""

from __future__ import annotations

import pytest
from reportlab.graphics.shapes import PolyLine, String
from reportlab.pdfbase.pdfmetrics import stringWidth

from app.reports.pdf.coverage import trend_drawing
from app.reports.quarter_report.values import (
    CoverageSection,
    CoverageTarget,
    TargetPoint,
    TrendPoint,
)


def _section(trend: list[tuple[int, int, int]], targets: list[int], projected: list[int]):
    quarters = [f"FY20-21 Q{i}" for i in range(1, 5)]
    measured = [t[0] for t in trend]
    ahead = [None] * len(trend) + projected
    points = tuple(
        TargetPoint(q, t, measured[i] if i < len(trend) else None, ahead[i])
        for i, (q, t) in enumerate(zip(quarters, targets, strict=True))
    )
    return CoverageSection(
        spof_staff=trend[-1][0],
        spof_systems=trend[-1][1],
        uncovered=trend[-1][2],
        sole_responsible=[],
        uncovered_systems=[],
        trend=[TrendPoint(quarters[i], *t) for i, t in enumerate(trend)],
        pipeline=[],
        positions_filled=0,
        positions_active_hiring=0,
        positions_final_stages=0,
        positions_goal=0,
        target=CoverageTarget("KR2", targets[0] + 1, "1 July 2020", targets[-1], points),
    )


def _labels_and_lines(section):
    drawing = trend_drawing(section)
    labels = [
        (s.x - 1, s.y - 1.5, s.x + stringWidth(s.text, s.fontName, 6) + 1, s.y + 6, s.text)
        for s in drawing.contents
        if isinstance(s, String) and s.fontSize == 6
    ]
    lines = [
        list(zip(p.points[::2], p.points[1::2], strict=True))
        for p in drawing.contents
        if isinstance(p, PolyLine)
    ]
    return labels, lines


def _meets_line(box, line) -> bool:
    left, bottom, right, top = box[:4]
    for (x0, y0), (x1, y1) in zip(line, line[1:], strict=False):
        lo, hi = max(left, x0), min(right, x1)
        if lo <= hi and x1 != x0:
            ys = [y0 + (y1 - y0) * (at - x0) / (x1 - x0) for at in (lo, hi)]
            if min(ys) <= top and max(ys) >= bottom:
                return True
    return False


@pytest.mark.parametrize(
    "trend, targets, projected",
    [
        # The 100,000-threat report: targets 583, 582 beside bars of 573 and 554.
        ([(554, 646, 130), (490, 573, 121)], [583, 582, 581, 580], [443, 396]),
        # The demo's Q1 and Q2.
        ([(8, 9, 0)], [7, 6, 5, 4], [8, 8, 8]),
        ([(8, 9, 0), (7, 7, 0)], [7, 6, 5, 4], [7, 6]),
        # Thousands, a target level with the bars, a full year measured.
        (
            [(1_200, 1_250, 40), (1_190, 1_210, 35), (1_180, 1_185, 30), (1_150, 1_160, 20)],
            [1_195, 1_185, 1_170, 1_160],
            [],
        ),
    ],
)
def test_no_value_label_meets_another_or_a_line(trend, targets, projected):
    labels, lines = _labels_and_lines(_section(trend, targets, projected))
    texts = sorted(label[4] for label in labels)
    expected = [f"{v:,}" for t in trend for v in t] + [f"{v:,}" for v in targets + projected]
    assert texts == sorted(expected)
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, (a, b)
        assert not any(_meets_line(a, line) for line in lines), a
