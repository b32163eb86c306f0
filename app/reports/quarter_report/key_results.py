"""The key results' table: each key result's quarters, ratings and who set its status."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain.quarters import Quarter
from app.extensions import db
from app.models.okrs import KeyResult, KeyResultStatus, Objective
from app.reports.quarter_report.values import KrCell, KrLine


def _status_authors(objective: Objective, quarter: Quarter) -> tuple[str, ...]:
    """Who wrote the quarter's key-result statuses (the report's preparers)."""
    names = {
        status.author.name
        for kr in objective.key_results
        for status in kr.statuses
        if status.quarter_start == quarter.first_day and status.author is not None
    }
    return tuple(sorted(names))


def gather_key_results(objective: Objective, quarter: Quarter) -> list[KrLine]:
    from app.okrs import figures as okrs

    # Key results, their statuses and authors in three queries, whatever their number.
    db.session.scalars(
        select(Objective)
        .where(Objective.id == objective.id)
        .options(
            selectinload(Objective.key_results)
            .selectinload(KeyResult.statuses)
            .selectinload(KeyResultStatus.author)
        )
    ).all()
    lines = []
    for row in okrs.kr_table(objective, objective.fiscal_year, through=quarter):
        # Quarters after the reported one are "to come" in this report, whatever was
        # written or measured since.
        cells = tuple(
            KrCell(
                text=cell.status_text or "-",
                rating=cell.rating,
                value=cell.computed,
                value_text=cell.computed_text or "",
            )
            if cell.quarter <= quarter
            else KrCell()
            for cell in row.quarters
        )
        lines.append(
            KrLine(
                code=row.code,
                title=row.key_result_text,
                goal=row.goal_text,
                cells=cells,
                linked=bool(row.metric),
                metric_label=row.metric_label or "",
            )
        )
    return lines
