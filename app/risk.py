"""Risk settings and register-wide risk queries shared by threats, countermeasures and reports.

``risk_matrix()`` and ``review_intervals()`` read the admin-editable settings;
``rescore_threat`` is the one way a threat's scores change (it keeps the history);
``top_threats_as_of`` ranks the register as it stood on a date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select, update

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
from app.figure_cache import register_cached
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
    # Keep the validity intervals the as-of queries read (changed_on <= d < superseded_on).
    # The new change is the latest entry of its day: the change in force on that day ends
    # there, and the new one lasts until the first change dated after it, if any (the
    # services only record changes in date order, but the history stays right either way).
    later = [c.changed_on for c in threat.score_changes if c.changed_on > changed_on]
    for previous in threat.score_changes:
        if previous.changed_on <= changed_on and (
            previous.superseded_on is None or previous.superseded_on > changed_on
        ):
            previous.superseded_on = changed_on
    change.superseded_on = min(later, default=None)
    threat.score_changes.append(change)
    return change


def resync_superseded(threat_ids: Iterable[int] | None = None) -> None:
    """Recompute ``superseded_on`` from the history (all threats, or these).

    For writers that insert score changes in bulk: each change is superseded on the date
    of the next one (by date, then by entry order on the same day), the last never.
    """
    t = ThreatScoreChange.__table__
    following = t.alias("following")
    next_date = (
        select(func.min(following.c.changed_on))
        .where(
            following.c.threat_id == t.c.threat_id,
            or_(
                following.c.changed_on > t.c.changed_on,
                and_(following.c.changed_on == t.c.changed_on, following.c.id > t.c.id),
            ),
        )
        .scalar_subquery()
    )
    if threat_ids is None:
        db.session.execute(update(t).values(superseded_on=next_date))
        return
    ids = sorted(set(threat_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        db.session.execute(
            update(t).where(t.c.threat_id.in_(chunk)).values(superseded_on=next_date)
        )


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


def in_force_on(as_of: date, changes=None):
    """WHERE clauses: this score change was the one in force on ``as_of``."""
    c = ThreatScoreChange.__table__.c if changes is None else changes.c
    return (
        c.changed_on <= as_of,
        or_(c.superseded_on.is_(None), c.superseded_on > as_of),
    )


def in_register_on(as_of: date):
    """WHERE clauses: the threat was on the register on ``as_of`` (archived later, if at all)."""
    day_after = datetime.combine(as_of + timedelta(days=1), time(), UTC)
    return (
        Threat.identified_on <= as_of,
        or_(Threat.archived_at.is_(None), Threat.archived_at >= day_after),
    )


def scores_as_of_query(as_of: date, include_closed: bool = False, from_changes: bool = False):
    """SELECT of every threat in the register on ``as_of`` with its scores on that date,
    and the score-change table it reads them from (for ordering and filtering).

    A threat counts if it was identified by then, not archived by then, and had been
    scored; its scores are those of the change in force that day
    (``changed_on <= as_of < superseded_on``: the last change on or before the date, the
    latest entry of a day winning).

    ``from_changes``: join each change's threat by primary key and never the other way
    (``+ 0`` keeps the planner from driving the join from the threats), for queries that
    read an index of score changes (in score order, one heat-map cell) and stop early.
    Leave it off when the threats are already narrowed down (by id, say).
    """
    changes = ThreatScoreChange.__table__.alias("in_force")
    query = (
        select(
            Threat.id,
            Threat.title,
            changes.c.inherent_likelihood,
            changes.c.inherent_impact,
            changes.c.residual_likelihood,
            changes.c.residual_impact,
            changes.c.inherent_score,
            changes.c.residual_score,
            Threat.identified_on,
        )
        .select_from(changes)
        .join(
            Threat, Threat.id == (changes.c.threat_id + 0 if from_changes else changes.c.threat_id)
        )
        .where(*in_force_on(as_of, changes), *in_register_on(as_of))
    )
    if not include_closed:
        query = query.where(Threat.status != ThreatStatus.CLOSED)
    return query, changes


def top_threats_as_of(as_of: date, n: int) -> list[ScoredThreat]:
    """The n open threats with the highest residual score on ``as_of``.

    Ties break on inherent score, then age (older first), then id, as
    ``app.domain.scoring.rank_top_threats`` defines; the SQL orders the same way, reading
    ix_threat_score_changes_rank in score order. Remembered per process until the
    register changes (``app.figure_cache``).
    """
    return list(_top_threats_as_of(as_of, n))


@register_cached
def _top_threats_as_of(as_of: date, n: int) -> tuple[ScoredThreat, ...]:
    query, changes = scores_as_of_query(as_of, from_changes=True)
    query = query.order_by(
        changes.c.residual_score.desc(),
        changes.c.inherent_score.desc(),
        Threat.identified_on,
        Threat.id,
    ).limit(n)
    rows = [ScoredThreat(*row) for row in db.session.execute(query)]
    return tuple(rank_top_threats(rows, n))
