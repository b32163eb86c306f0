"""The risk section: inherent and residual heat maps as of the quarter's end."""

from __future__ import annotations

from reportlab.graphics.shapes import Drawing, Group, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Spacer, Table

from app.reports.pdf.layout import (
    FRAME_WIDTH,
    INK,
    LEVEL_COLOURS,
    MUTED,
    _count,
    _fit,
    _heading,
    _listed,
    _long_date,
    _p,
    _table_style,
)
from app.reports.quarter_report.values import HeatMap, QuarterReport, RiskSection
from app.reports.typefaces import SANS, SANS_BOLD, font_for


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
            _heat_cell(d, heatmap, likelihood, impact, (x, y, cell_w, cell_h))
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
    _axis_titles(d, grid_left + cols * cell_w / 2, grid_bottom + rows * cell_h / 2)
    return d


def _heat_cell(
    d: Drawing,
    heatmap: HeatMap,
    likelihood: int,
    impact: int,
    box: tuple[float, float, float, float],
) -> None:
    """One cell of the heat map: its level's colour and the count of threats in it."""
    x, y, cell_w, cell_h = box
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


def _axis_titles(d: Drawing, impact_x: float, likelihood_y: float) -> None:
    """The axis titles: Impact under the columns, Likelihood turned up the left side."""
    d.add(
        String(
            impact_x,
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
    rotated.translate(likelihood_y, -7)
    d.add(rotated)


def _risk_section(report: QuarterReport, risk: RiskSection) -> list:
    parts = [CondPageBreak(120 * mm), _heading("Risk")]
    as_of = _long_date(report.as_of)
    parts.append(
        _p(
            f"{_count(risk.residual.total, 'threat')} in the register on {as_of}; "
            f"{_count(risk.open_critical, 'open critical risk')}; "
            f"{_count(risk.overdue_count, 'review')} overdue.",
            "body",
        )
    )
    parts += _heat_maps(as_of, risk)
    parts += _top_threats(report, risk)
    parts += _overdue_reviews(risk)
    return parts


def _heat_maps(as_of: str, risk: RiskSection) -> list:
    """Inherent and residual heat maps side by side, with the levels' score ranges."""
    parts: list = []
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
    return parts


def _top_threats(report: QuarterReport, risk: RiskSection) -> list:
    """The top threats by residual score, with their rank and score a quarter before."""
    previous = report.quarter.previous().label
    fixed = [22, 48, 48, 44, 66, 66, 58]
    return _listed(
        f"Top {len(risk.top_threats)} threats by residual score",
        "No open threats were scored on that date.",
        [
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
        ],
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
        [fixed[0], FRAME_WIDTH - sum(fixed), *fixed[1:]],
    )


def _overdue_reviews(risk: RiskSection) -> list:
    """The reviews overdue, highest residual first, capped with "and N more"."""
    return _listed(
        "Reviews overdue",
        "No threat review was overdue.",
        [
            [
                r.title,
                "-" if r.residual_score is None else str(r.residual_score),
                r.due_on.isoformat() if r.due_on else "-",
                r.owner or "-",
            ]
            for r in risk.overdue
        ],
        ["Threat (highest residual first)", "Residual", "Review was due", "Owner"],
        [FRAME_WIDTH - 240, 50, 70, 120],
        more=(
            risk.overdue_more,
            "overdue reviews",
            "all of them are on the register's Reviews page (/threats/reviews) and in the "
            "full-register appendix",
        ),
    )
