"""The risk section: heat maps, the top threats and overdue reviews as of a date."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app.domain.quarters import Quarter
from app.domain.scoring import Level, level_for
from app.extensions import db
from app.reports.quarter_report.sections import LIST_CAP, TOP_THREATS
from app.reports.quarter_report.values import HeatMap, ReviewLine, RiskSection, ThreatLine


def _treatment_labels(ids: Iterable[int], as_of: date) -> dict[int, str]:
    from app.threats.figures import treatments_on

    return {
        tid: (treatment.label if treatment else "Not decided")
        for tid, treatment in treatments_on(ids, as_of).items()
    }


def _previous_scores(ids: list[int], as_of: date) -> dict[int, int]:
    from app.models.threats import Threat
    from app.threats.as_of import scores_as_of_query

    if not ids:
        return {}
    query, ranked = scores_as_of_query(as_of)
    query = query.where(Threat.id.in_(ids))
    return {row.id: row.residual_score for row in db.session.execute(query)}


def _overdue_lines(as_of: date) -> list[ReviewLine]:
    """The overdue reviews (review date in force on ``as_of`` passed) with the highest
    residual score on that day first."""
    from app.models.threats import Threat, ThreatStateChange
    from app.models.user import User
    from app.threats.as_of import scores_as_of_query, state_in_force_on

    # Read in the ranking index's order (residual, then inherent score) and stop at the cap.
    query, changes = scores_as_of_query(as_of, from_changes=True)
    state = ThreatStateChange.__table__.alias("review_state")
    # The review state is probed per change in ranking order. PostgreSQL plans that from
    # the change's own threat id (by the threat's, it materialises every overdue state:
    # 1 s at 100,000 threats); SQLite from the threat's (by the change's, it drives the
    # query from the overdue states instead: 0.4 s).
    postgres = db.session.get_bind().dialect.name == "postgresql"
    on = changes.c.threat_id if postgres else Threat.id
    query = (
        query.with_only_columns(
            Threat.id, Threat.title, state.c.next_review_on, User.name, changes.c.residual_score
        )
        .join(state, state.c.threat_id == on)
        .outerjoin(User, User.id == Threat.owner_id)
        .where(*state_in_force_on(as_of, state), state.c.next_review_on < as_of)
        .order_by(
            changes.c.residual_score.desc(),
            changes.c.inherent_score.desc(),
            state.c.next_review_on,
            Threat.id,
        )
        .limit(LIST_CAP)
    )
    return [
        ReviewLine(tid, title, review_on, owner or "No owner", residual)
        for tid, title, review_on, owner, residual in db.session.execute(query)
    ]


def gather_risk(quarter: Quarter, as_of: date, detail: bool = True) -> RiskSection:
    from app.threats import figures as threats
    from app.threats.as_of import top_threats_as_of
    from app.threats.risk import risk_matrix

    matrix = risk_matrix()
    previous_end = quarter.previous().last_day
    # Both heat maps and the level counts from one pass over the register.
    threats.both_cells_on(as_of)
    levels = dict(threats.level_counts(as_of))
    section = RiskSection(
        inherent=HeatMap("inherent", threats.heatmap_as_of(as_of, "inherent"), matrix),
        residual=HeatMap("residual", threats.heatmap_as_of(as_of, "residual"), matrix),
        top_threats=[],
        # The same count open_critical_risks gives, read from the cells just counted.
        open_critical=levels.get(Level.CRITICAL, 0),
        overdue_count=threats.overdue_reviews(as_of),
        level_counts=levels,
    )
    if not detail:
        return section
    section.previous_open_critical = threats.open_critical_risks(previous_end)
    top = top_threats_as_of(as_of, TOP_THREATS)
    before = top_threats_as_of(previous_end, TOP_THREATS)
    ids = [t.id for t in top]
    previous = _previous_scores(ids, previous_end)
    previous_rank = {t.id: i for i, t in enumerate(before, 1)}
    treatments = _treatment_labels(ids, as_of)
    section.top_threats = [
        ThreatLine(
            rank=rank,
            id=t.id,
            title=t.title,
            inherent_score=t.inherent_score,
            residual_score=t.residual_score,
            level=level_for(t.residual_score, matrix),
            treatment=treatments.get(t.id, ""),
            previous_residual=previous.get(t.id),
            previous_rank=previous_rank.get(t.id),
        )
        for rank, t in enumerate(top, 1)
    ]
    now_ids = set(ids)
    section.entered_top = [t.title for t in top if t.id not in previous_rank]
    section.left_top = [t.title for t in before if t.id not in now_ids]
    section.overdue = _overdue_lines(as_of)
    return section
