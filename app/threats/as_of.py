"""The register as it stood on a date: the scores and states in force that day, the threats
on the register, and the top threats ranked by their residual score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, or_, select

from app.domain.scoring import Level, RiskMatrix, level_for, rank_top_threats
from app.extensions import db
from app.figure_cache import register_cached
from app.models.threats import Threat, ThreatScoreChange, ThreatStateChange, ThreatStatus
from app.threats.risk import risk_matrix


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


def state_in_force_on(as_of: date, states=None):
    """WHERE clauses: this state change was the one in force on ``as_of``."""
    c = ThreatStateChange.__table__.c if states is None else states.c
    return (
        c.changed_on <= as_of,
        or_(c.superseded_on.is_(None), c.superseded_on > as_of),
    )


def on_register_on(as_of: date, states=None, include_closed: bool = False):
    """WHERE clauses on a state change: in force on ``as_of``, not archived, not closed.

    A threat is on the register on a date when the state in force that day says so
    (it has none before it was identified).
    """
    c = ThreatStateChange.__table__.c if states is None else states.c
    clauses = [c.archived.is_(False), *state_in_force_on(as_of, states)]
    if not include_closed:
        clauses.append(c.status != ThreatStatus.CLOSED)
    return tuple(clauses)


def register_ids_on(as_of: date, include_closed: bool = False):
    """SELECT of the ids of the threats on the register on ``as_of`` (open ones by default).

    Read from ix_threat_state_changes_register alone.
    """
    return select(ThreatStateChange.threat_id).where(
        *on_register_on(as_of, include_closed=include_closed)
    )


def later_facts_exist(as_of: date) -> bool:
    """True when some score or state change is dated after ``as_of``.

    When none is, the columns kept on each threat are the state and scores in force on
    ``as_of`` (the common case of "as of today"), and a figure may read them alone.
    """
    for column in (ThreatScoreChange.changed_on, ThreatStateChange.changed_on):
        later = select(column).where(column > as_of).limit(1)
        if db.session.scalar(later) is not None:
            return True
    return False


def status_on(as_of: date, threat_id, states):
    """The status in force on ``as_of`` of the threat whose id is the column ``threat_id``,
    NULL when it was archived or not yet on the register: a correlated subquery on the
    alias ``states`` of the state changes.

    Both planners run it as an index lookup per row (as an EXISTS or a join they may hash
    every state in force instead). Archival is read, not filtered on, so SQLite looks the
    row up by threat id (in-force index) instead of scanning the register index.
    """
    return (
        select(case((states.c.archived.is_(True), None), else_=states.c.status))
        .where(states.c.threat_id == threat_id, *state_in_force_on(as_of, states))
        .limit(1)
        .scalar_subquery()
    )


def scores_as_of_query(as_of: date, include_closed: bool = False, from_changes: bool = False):
    """SELECT of every threat in the register on ``as_of`` with its scores on that date,
    and the score-change table it reads them from (for ordering and filtering).

    A threat counts if the state in force on ``as_of`` has it on the register (not
    archived, not closed unless ``include_closed``) and it had been scored; its scores
    are those of the change in force that day
    (``changed_on <= as_of < superseded_on``: the last change on or before the date, the
    latest entry of a day winning).

    ``from_changes``: join each change's threat by primary key and never the other way
    (``+ 0`` keeps the planner from driving the join from the threats), for queries that
    read an index of score changes (in score order, one heat-map cell) and stop early.
    Leave it off when the threats are already narrowed down (by id, say).
    """
    changes = ThreatScoreChange.__table__.alias("in_force")
    states = ThreatStateChange.__table__.alias("state_in_force")
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
        .where(*in_force_on(as_of, changes), Threat.identified_on <= as_of)
    )
    status = status_on(as_of, Threat.id, states)
    if include_closed:
        query = query.where(status.is_not(None))
    else:
        query = query.where(status != ThreatStatus.CLOSED)  # NULL (not on register) fails too
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
