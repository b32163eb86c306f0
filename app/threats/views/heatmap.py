"""The heat map: inherent and residual risk as of a day or a quarter's end."""

from __future__ import annotations

from datetime import date

from flask import abort, render_template, request

from app import fiscal
from app.domain.scoring import level_for
from app.security import readable
from app.threats import bp, figures
from app.threats.risk import risk_matrix


def _recent_quarters(today: date, count: int = 8) -> list[fiscal.Quarter]:
    quarters: list[fiscal.Quarter] = []
    quarter = fiscal.current_quarter().previous()
    while len(quarters) < count:
        quarters.append(quarter)
        quarter = quarter.previous()
    return quarters


@bp.route("/heatmap")
@readable
def heatmap():
    kind = request.args.get("kind", "residual")
    if kind not in figures.KINDS:
        abort(404, "The heat map is either inherent or residual.")
    label = request.args.get("quarter", "").strip()
    quarter = fiscal.quarter_or_404(label) if label else None
    today = fiscal.today()
    if quarter is not None and quarter.last_day > today:
        abort(404, f"{quarter.label} has not ended yet; choose a past quarter or today.")
    as_of = quarter.last_day if quarter else today
    matrix = risk_matrix()
    cells = figures.heatmap_as_of(as_of, kind)
    return render_template(
        "threats/heatmap.html",
        kind=kind,
        quarter=quarter,
        as_of=as_of,
        today=today,
        cells=cells,
        total=sum(cells.values()),
        matrix=matrix,
        level_for=lambda s: level_for(s, matrix),
        quarters=_recent_quarters(today),
    )
