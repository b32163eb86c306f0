"""Risk settings and register-wide risk queries shared by threats, countermeasures and reports.

``risk_matrix()`` and ``review_intervals()`` read the admin-editable settings;
``rescore_threat`` is the one way a threat's scores change (it keeps the history);
``top_threats_as_of`` ranks the register as it stood on a date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select

from app.domain.scoring import (
    DEFAULT_MATRIX,
    DEFAULT_REVIEW_INTERVALS,
    Level,
    RiskMatrix,
    level_for,
    rank_top_threats,
    score,
)
from app.extensions import db
from app.models.setting import get_setting
from app.models.threats import Threat, ThreatScoreChange, ThreatStatus

RISK_MATRIX_KEY = "risk_matrix"
REVIEW_INTERVALS_KEY = "review_intervals"


def risk_matrix() -> RiskMatrix:
    stored = get_setting(RISK_MATRIX_KEY)
    if not stored:
        return DEFAULT_MATRIX
    return RiskMatrix(
        likelihood_labels=tuple(stored["likelihood_labels"]),
        impact_labels=tuple(stored["impact_labels"]),
        thresholds=tuple((Level(level), int(minimum)) for level, minimum in stored["thresholds"]),
    )


def review_intervals() -> dict[Level, int]:
    stored = get_setting(REVIEW_INTERVALS_KEY)
    if not stored:
        return dict(DEFAULT_REVIEW_INTERVALS)
    return {Level(level): int(days) for level, days in stored.items()}


def rescore_threat(
    threat: Threat,
    *,
    inherent: tuple[int, int],
    residual: tuple[int, int],
    changed_on: date,
    author_id: int | None,
    countermeasure_id: int | None = None,
    note: str = "",
) -> ThreatScoreChange:
    """Set a threat's current scores and keep the change in its history (validates ranges)."""
    matrix = risk_matrix()
    inherent_score = score(*inherent, matrix)
    residual_score = score(*residual, matrix)
    threat.inherent_likelihood, threat.inherent_impact = inherent
    threat.residual_likelihood, threat.residual_impact = residual
    threat.inherent_score = inherent_score
    threat.residual_score = residual_score
    change = ThreatScoreChange(
        changed_on=changed_on,
        inherent_likelihood=inherent[0],
        inherent_impact=inherent[1],
        residual_likelihood=residual[0],
        residual_impact=residual[1],
        inherent_score=inherent_score,
        residual_score=residual_score,
        author_id=author_id,
        countermeasure_id=countermeasure_id,
        note=note,
    )
    # The change in force until now ends where this one starts (the as-of queries read it).
    for previous in threat.score_changes:
        if previous.superseded_on is None:
            previous.superseded_on = changed_on
    threat.score_changes.append(change)
    return change


@dataclass(frozen=True)
class ScoredThreat:
    """A threat's scores as they stood on a date (from its score history)."""

    id: int
    title: str
    inherent_likelihood: int
    inherent_impact: int
    residual_likelihood: int
    residual_impact: int
    inherent_score: int
    residual_score: int
    identified_on: date

    def level(self, matrix: RiskMatrix | None = None) -> Level:
        return level_for(self.residual_score, matrix or risk_matrix())


def scores_as_of_query(as_of: date, include_closed: bool = False):
    """SELECT of every threat in the register on ``as_of`` with its scores on that date.

    A threat counts if it was identified by then, not archived by then, and had been
    scored; its scores are the last change on or before the date (ties: latest entry).
    """
    ranked = (
        select(
            ThreatScoreChange.threat_id,
            ThreatScoreChange.inherent_likelihood,
            ThreatScoreChange.inherent_impact,
            ThreatScoreChange.residual_likelihood,
            ThreatScoreChange.residual_impact,
            ThreatScoreChange.inherent_score,
            ThreatScoreChange.residual_score,
            func.row_number()
            .over(
                partition_by=ThreatScoreChange.threat_id,
                order_by=(ThreatScoreChange.changed_on.desc(), ThreatScoreChange.id.desc()),
            )
            .label("rn"),
        )
        .where(ThreatScoreChange.changed_on <= as_of)
        .subquery()
    )
    query = (
        select(
            Threat.id,
            Threat.title,
            ranked.c.inherent_likelihood,
            ranked.c.inherent_impact,
            ranked.c.residual_likelihood,
            ranked.c.residual_impact,
            ranked.c.inherent_score,
            ranked.c.residual_score,
            Threat.identified_on,
        )
        .join(ranked, and_(ranked.c.threat_id == Threat.id, ranked.c.rn == 1))
        .where(
            Threat.identified_on <= as_of,
            or_(Threat.archived_at.is_(None), func.date(Threat.archived_at) > as_of),
        )
    )
    if not include_closed:
        query = query.where(Threat.status != ThreatStatus.CLOSED)
    return query, ranked


def top_threats_as_of(as_of: date, n: int) -> list[ScoredThreat]:
    """The n open threats with the highest residual score on ``as_of``.

    Ties break on inherent score, then age (older first), then id, as
    ``app.domain.scoring.rank_top_threats`` defines; the SQL orders the same way.
    """
    query, ranked = scores_as_of_query(as_of)
    query = query.order_by(
        ranked.c.residual_score.desc(),
        ranked.c.inherent_score.desc(),
        Threat.identified_on,
        Threat.id,
    ).limit(n)
    rows = [ScoredThreat(*row) for row in db.session.execute(query)]
    return rank_top_threats(rows, n)
