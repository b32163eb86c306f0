"""Register figures the dashboard, the PDF report and the pages share (one home each).

"As of a date" means the register as it stood that day: the threats whose state in force
that day (``ThreatStateChange``: ``changed_on <= date < superseded_on``) is neither
archived nor closed, with the scores in force that day (from the score history, read the
same way) and the next review date in force that day. Each figure is one query; the
heat-map cells and the ranking are remembered per process until the register changes
(``app.figure_cache``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, select, union, union_all

from app.domain.scoring import Level, level_for
from app.extensions import db
from app.figure_cache import register_cached
from app.models.threats import Threat, ThreatScoreChange, ThreatStateChange, ThreatStatus
from app.models.user import User
from app.threats.as_of import (
    ScoredThreat,
    in_force_on,
    later_facts_exist,
    on_register_on,
    register_ids_on,
    scores_as_of_query,
    state_in_force_on,
    status_on,
    top_threats_as_of,
)
from app.threats.risk import risk_matrix

KINDS = ("inherent", "residual")
_FACT_DATES = (ThreatScoreChange.changed_on, ThreatStateChange.changed_on)


def scored_on_query(as_of: date, *columns, include_closed: bool = False):
    """SELECT ``columns`` of the score changes in force on ``as_of`` for threats then open.

    Both halves are answered from covering indexes (ix_threat_score_changes_in_force,
    ix_threat_state_changes_register), which keeps a quarter-end heat map of 100,000
    threats fast.
    """
    return (
        select(*columns)
        .select_from(ThreatScoreChange)
        .where(
            *in_force_on(as_of),
            ThreatScoreChange.threat_id.in_(register_ids_on(as_of, include_closed)),
        )
    )


@register_cached
def _cells(as_of: date, kind: str) -> tuple[tuple[int, int, int], ...]:
    """(likelihood, impact, count) of the open threats on ``as_of``; one grouped query.

    When no fact is dated after ``as_of`` the threats' own columns are the ones in force
    and the cells are counted from the threats table alone. Counting a past date reads
    every change in force (about 0.1 s at 100,000 threats), so the cells are remembered
    per process until the register changes (``app.figure_cache``).
    """
    if not later_facts_exist(as_of):
        if kind == "inherent":
            likelihood, impact = Threat.inherent_likelihood, Threat.inherent_impact
        else:
            likelihood, impact = Threat.residual_likelihood, Threat.residual_impact
        query = (
            select(likelihood, impact, func.count())
            .where(
                Threat.archived_at.is_(None),
                Threat.identified_on <= as_of,
                Threat.status != ThreatStatus.CLOSED,
            )
            .group_by(likelihood, impact)
        )
    else:
        likelihood, impact = _axes(kind)
        query = scored_on_query(as_of, likelihood, impact, func.count()).group_by(
            likelihood, impact
        )
    totals: dict[tuple[int, int], int] = {}
    for row in db.session.execute(query):
        totals[(row[0], row[1])] = totals.get((row[0], row[1]), 0) + row[2]
    return tuple((li, im, n) for (li, im), n in sorted(totals.items()))


def both_cells_on(as_of: date) -> dict[str, tuple[tuple[int, int, int], ...]]:
    """The inherent and residual cells (as ``_cells``) on ``as_of`` from one grouped pass
    over the register, each then remembered as ``_cells`` remembers it (a report shows
    both heat maps and the level counts of the same day).

    When few facts are dated after ``as_of`` (a recent quarter end), most threats stand as
    their own columns say, and only the threats changed since are counted from their
    history (``_cells_split``); otherwise every change in force is counted
    (``_cells_from_history``), which is then the cheaper way.
    """
    # The split pays while about one threat in eight or fewer changed since on SQLite, one
    # in twenty on PostgreSQL, whose count from history is the faster (measured at 100,000
    # threats); the facts dated later are counted up to that many, from the changed_on
    # indexes, against the highest threat id (one index probe).
    share = 20 if db.session.get_bind().dialect.name == "postgresql" else 8
    cap = (db.session.scalar(select(func.max(Threat.id))) or 0) // share
    later = union_all(*(select(column).where(column > as_of) for column in _FACT_DATES)).limit(cap)
    later_count = db.session.scalar(select(func.count()).select_from(later.subquery())) or 0
    rows = _cells_split(as_of) if later_count < cap else _cells_from_history(as_of)
    totals: dict[str, dict[tuple[int, int], int]] = {kind: {} for kind in KINDS}
    for il, ii, rl, ri, n in rows:
        for kind, cell in (("inherent", (il, ii)), ("residual", (rl, ri))):
            totals[kind][cell] = totals[kind].get(cell, 0) + n
    answers = {
        kind: tuple((li, im, n) for (li, im), n in sorted(cells.items()) if n)
        for kind, cells in totals.items()
    }
    _cells.remember({(as_of, kind): value for kind, value in answers.items()})
    return answers


def _cells_from_history(as_of: date) -> list[tuple[int, int, int, int, int]]:
    """(inherent l, i, residual l, i, count) of the open threats on ``as_of``, counted from
    every score change in force that day."""
    c = ThreatScoreChange.__table__.c
    axes = (c.inherent_likelihood, c.inherent_impact, c.residual_likelihood, c.residual_impact)
    # Read ix_threat_score_changes_cells in cell order, each change's threat checked against
    # the register (``+ 0`` keeps SQLite from driving the count from the register's threat
    # ids, one index probe each, and then sorting every row to group it).
    query = (
        select(*axes, func.count())
        .select_from(ThreatScoreChange)
        .where(*in_force_on(as_of), (c.threat_id + 0).in_(register_ids_on(as_of)))
        .group_by(*axes)
    )
    return [tuple(row) for row in db.session.execute(query)]


def _changed_since(as_of: date):
    """SELECT of the ids of the threats with a score or state change dated after ``as_of``."""
    return union(
        select(ThreatScoreChange.threat_id).where(ThreatScoreChange.changed_on > as_of),
        select(ThreatStateChange.threat_id).where(ThreatStateChange.changed_on > as_of),
    )


def _cells_split(as_of: date) -> list[tuple[int, int, int, int, int]]:
    """The same counts as ``_cells_from_history``, in three parts of one query (a count
    may be negative; the parts add up per cell).

    A threat with no fact dated after ``as_of`` stands that day as its latest facts, which
    its own columns equal (``app.threats.risk`` keeps them). So every threat open now is
    counted from the threats table (ix_threats_open_cells, in cell order, no probe per
    row); the threats changed since are taken back out as they stand now (looked up by
    id) and counted again from the changes and states in force on ``as_of``.
    """
    c = ThreatScoreChange.__table__.c
    axes = (c.inherent_likelihood, c.inherent_impact, c.residual_likelihood, c.residual_impact)
    # Read once, used twice (both engines materialise a CTE referenced more than once).
    changed = _changed_since(as_of).cte("changed_since")
    changed_ids = select(changed.c.threat_id)
    own = (
        Threat.inherent_likelihood,
        Threat.inherent_impact,
        Threat.residual_likelihood,
        Threat.residual_impact,
    )
    open_now = (Threat.archived_at.is_(None), Threat.status != ThreatStatus.CLOSED)
    everyone = select(*own, func.count()).where(*open_now).group_by(*own)
    changed_now = (
        select(*own, -func.count()).where(Threat.id.in_(changed_ids), *open_now).group_by(*own)
    )
    # Each changed threat's state that day, looked up by its id, not gathered for the
    # whole register.
    status_then = status_on(as_of, c.threat_id, ThreatStateChange.__table__.alias("state_then"))
    changed_then = (
        select(*axes, func.count())
        .select_from(ThreatScoreChange)
        .where(
            c.threat_id.in_(changed_ids),
            *in_force_on(as_of),
            status_then != ThreatStatus.CLOSED,  # NULL (archived, or none yet) fails too
        )
        .group_by(*axes)
    )
    query = union_all(everyone, changed_now, changed_then)
    return [tuple(row) for row in db.session.execute(query)]


def _axes(kind: str):
    if kind not in KINDS:
        raise ValueError(f"kind must be inherent or residual, got {kind!r}")
    if kind == "inherent":
        return ThreatScoreChange.inherent_likelihood, ThreatScoreChange.inherent_impact
    return ThreatScoreChange.residual_likelihood, ThreatScoreChange.residual_impact


def heatmap_as_of(as_of: date, kind: str) -> dict[tuple[int, int], int]:
    """Open threats per (likelihood, impact) cell on ``as_of``; every cell present."""
    _axes(kind)  # refuses an unknown kind
    matrix = risk_matrix()
    counts = {
        (li, im): 0
        for li in range(1, matrix.max_likelihood + 1)
        for im in range(1, matrix.max_impact + 1)
    }
    for li, im, n in _cells(as_of, kind):
        if (li, im) in counts:  # a cell outside a since-shrunk matrix is not shown
            counts[(li, im)] = n
    return counts


def cell_threat_ids(as_of: date, kind: str, likelihood: int, impact: int):
    """SELECT of the ids of threats in one heat-map cell on ``as_of`` (the cell's link).

    Reads only that cell's score changes (ix_threat_score_changes_<kind>_cell) and checks
    each threat by primary key, so a cell link costs what the cell holds, not the register.
    """
    _axes(kind)
    query, changes = scores_as_of_query(as_of, from_changes=True)
    column_l = changes.c[f"{kind}_likelihood"]
    column_i = changes.c[f"{kind}_impact"]
    return query.with_only_columns(changes.c.threat_id).where(
        column_l == likelihood, column_i == impact
    )


def level_counts(as_of: date) -> dict[Level, int]:
    """Open threats per residual level on ``as_of`` (every level of the matrix present)."""
    matrix = risk_matrix()
    counts = dict.fromkeys(matrix.levels, 0)
    for likelihood, impact, n in _cells(as_of, "residual"):
        if 1 <= likelihood * impact <= matrix.max_score:
            counts[level_for(likelihood * impact, matrix)] += n
    return counts


def open_critical_risks(as_of: date) -> int:
    """Open threats whose residual level on ``as_of`` is critical.

    Read from the ranking index's critical end only (a few thousand entries at 100,000
    threats), not from the whole heat map: a report asks it of the previous quarter too.
    """
    matrix = risk_matrix()
    if Level.CRITICAL not in matrix.levels:
        return 0
    return _score_band_count(as_of, *matrix.score_range(Level.CRITICAL))


@register_cached
def _score_band_count(as_of: date, lowest: int, highest: int) -> int:
    # Read from the ranking index's band, each change's threat then checked by one probe
    # of its state in force (EXISTS): an IN list would first gather the ids of the whole
    # register (100,000 at size) to test a few hundred changes against.
    score = ThreatScoreChange.residual_score
    states = ThreatStateChange.__table__.alias("band_state")
    on_register = (
        select(states.c.threat_id)
        .where(
            states.c.threat_id == ThreatScoreChange.threat_id,
            *on_register_on(as_of, states),
        )
        .exists()
    )
    query = (
        select(func.count())
        .select_from(ThreatScoreChange)
        .where(score >= lowest, score <= highest, *in_force_on(as_of), on_register)
    )
    return db.session.scalar(query) or 0


def _overdue_where(as_of: date):
    """WHERE clauses on a state change: in force on ``as_of``, open, its review passed."""
    return (
        *on_register_on(as_of),
        ThreatStateChange.next_review_on < as_of,
    )


def overdue_reviews(as_of: date) -> int:
    """Open threats whose next review date in force on ``as_of`` had passed that day."""
    return (
        db.session.scalar(
            select(func.count()).select_from(ThreatStateChange).where(*_overdue_where(as_of))
        )
        or 0
    )


@dataclass(frozen=True)
class DueReview:
    """A threat whose review was overdue on a date, with the review date then in force."""

    id: int
    title: str
    residual_score: int | None  # in force on the date
    next_review_on: date


@dataclass
class OwnerReviews:
    owner: User | None
    threats: list[DueReview] = field(default_factory=list)

    @property
    def owner_name(self) -> str:
        return self.owner.name if self.owner else "No owner"


def reviews_due(as_of: date, limit: int = 500) -> list[OwnerReviews]:
    """Overdue reviews on ``as_of``, grouped by owner (by name; no owner last), oldest first."""
    due = ThreatStateChange.next_review_on
    # The residual score in force that day (None when not yet assessed then).
    scores = ThreatScoreChange.__table__.alias("due_scores")
    query = (
        select(Threat.id, Threat.title, scores.c.residual_score, due, User)
        .select_from(ThreatStateChange)
        .join(Threat, Threat.id == ThreatStateChange.threat_id)
        .outerjoin(scores, and_(scores.c.threat_id == Threat.id, *in_force_on(as_of, scores)))
        .outerjoin(User, User.id == Threat.owner_id)
        .where(*_overdue_where(as_of))
        .order_by(User.name.is_(None), User.name, Threat.owner_id, due, Threat.id)
        .limit(limit)
    )
    groups: list[OwnerReviews] = []
    for threat_id, title, residual, next_review_on, owner in db.session.execute(query):
        if not groups or groups[-1].owner is not owner:
            groups.append(OwnerReviews(owner=owner))
        groups[-1].threats.append(DueReview(threat_id, title, residual, next_review_on))
    return groups


def treatments_on(threat_ids, as_of: date) -> dict:
    """The treatment decision (``Treatment`` or None) in force on ``as_of`` per threat."""
    ids = list(threat_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ThreatStateChange.threat_id, ThreatStateChange.treatment).where(
            ThreatStateChange.threat_id.in_(ids), *state_in_force_on(as_of)
        )
    )
    return dict(rows.tuples().all())


def top_threats(as_of: date, n: int) -> list[ScoredThreat]:
    """The n open threats with the highest residual score on ``as_of``.

    The one ranking of the register: ``app.threats.risk.top_threats_as_of`` (residual, inherent,
    older, id), read from the change in force on the date.
    """
    return top_threats_as_of(as_of, n)
