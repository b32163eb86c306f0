"""The SPOF hiring section: positions opened and filled."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak

from app.reports.pdf.layout import FRAME_WIDTH, _heading, _long_date, _table
from app.reports.quarter_report.values import CoverageSection, QuarterReport, count


def _hiring_section(report: QuarterReport, cov: CoverageSection) -> list:
    parts = [CondPageBreak(60 * mm), _heading("SPOF hiring")]
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
