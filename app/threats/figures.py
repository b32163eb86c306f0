"""Register figures the dashboard, the PDF report and the pages share (one home each).

"As of a date" means the register as it stood that day: threats identified by then
and not archived by then, with the scores in force that day (from the score history:
the change with ``changed_on <= date < superseded_on``). Each figure is one query;
the heat-map cells and the ranking are remembered per process until the register
changes (``app.figure_cache``).
Statuses and review dates are not historised: they are taken as they are now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, select, union_all
from sqlalchemy.orm import joinedload

from app.domain.scoring import Level, level_for
from app.extensions import db
from app.figure_cache import register_cached
from app.models.threats import Threat, ThreatScoreChange, ThreatStatus
from app.models.user import User
from app.risk import (  # noqa: F401 (in_force_on, in_register_on: shared with app.risk)
    ScoredThreat,
    in_force_on,
    in_register_on,
    risk_matrix,
    scores_as_of_query,
    top_threats_as_of,
)

KINDS = ("inherent", "residual")


def _register_branches(as_of: date, *columns, include_closed: bool = False):
    """Two SELECTs (never archived; archived after ``as_of``) whose union is the register.

    Split rather than OR-ed so each branch reads a covering index from its first column.
    """
    branches = []
    day_after = datetime.combine(as_of + timedelta(days=1), time(), UTC)
    for archived in (Threat.archived_at.is_(None), Threat.archived_at >= day_after):
        query = select(*columns).where(archived, Threat.identified_on <= as_of)
        if not include_closed:
            query = query.where(Threat.status != ThreatStatus.CLOSED)
        branches.append(query)
    return branches


def register_ids_on(as_of: date, include_closed: bool = False):
    """SELECT of the ids of the threats on the register on ``as_of`` (open ones by default)."""
    return union_all(*_register_branches(as_of, Threat.id, include_closed=include_closed))


def scored_on_query(as_of: date, *columns, include_closed: bool = False):
    """SELECT ``columns`` of the score changes in force on ``as_of`` for threats then open.

    Both halves are answered from covering indexes (ix_threat_score_changes_in_force,
    ix_threats_register), which keeps a quarter-end heat map of 100,000 threats fast.
    """
    return (
        select(*columns)
        .select_from(ThreatScoreChange)
        .where(
            *in_force_on(as_of),
            ThreatScoreChange.threat_id.in_(register_ids_on(as_of, include_closed)),
        )
    )


def _current_scores_hold(as_of: date) -> bool:
    """True when the scores kept on each threat are the ones in force on ``as_of``.

    They are whenever no assessment is dated after ``as_of`` (assessments are recorded
    in date order, so a threat's current scores are its latest change). Then the cells
    are counted from the threats table alone, the common case of "as of today".
    """
    later = select(ThreatScoreChange.id).where(ThreatScoreChange.changed_on > as_of).limit(1)
    return db.session.scalar(later) is None


@register_cached
def _cells(as_of: date, kind: str) -> tuple[tuple[int, int, int], ...]:
    """(likelihood, impact, count) of the open threats on ``as_of``; one grouped query.

    Counting a past date reads every change in force (about 0.1 s at 100,000 threats), so
    the cells are remembered per process until the register changes (``app.figure_cache``).
    """
    if _current_scores_hold(as_of):
        if kind == "inherent":
            likelihood, impact = Threat.inherent_likelihood, Threat.inherent_impact
        else:
            likelihood, impact = Threat.residual_likelihood, Threat.residual_impact
        queries = [
            branch.group_by(likelihood, impact)
            for branch in _register_branches(as_of, likelihood, impact, func.count())
        ]
    else:
        likelihood, impact = _axes(kind)
        queries = [
            scored_on_query(as_of, likelihood, impact, func.count()).group_by(likelihood, impact)
        ]
    totals: dict[tuple[int, int], int] = {}
    for row in db.session.execute(union_all(*queries)):
        totals[(row[0], row[1])] = totals.get((row[0], row[1]), 0) + row[2]
    return tuple((li, im, n) for (li, im), n in sorted(totals.items()))


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
    """Open threats whose residual level on ``as_of`` is critical."""
    return level_counts(as_of).get(Level.CRITICAL, 0)


def _overdue_where(as_of: date):
    return and_(
        *in_register_on(as_of),
        Threat.status != ThreatStatus.CLOSED,
        Threat.next_review_on < as_of,
    )


def overdue_reviews(as_of: date) -> int:
    """Open threats whose next review date had passed on ``as_of``."""
    return db.session.scalar(select(func.count()).select_from(Threat).where(_overdue_where(as_of)))


@dataclass
class OwnerReviews:
    owner: User | None
    threats: list[Threat] = field(default_factory=list)

    @property
    def owner_name(self) -> str:
        return self.owner.name if self.owner else "No owner"


def reviews_due(as_of: date, limit: int = 500) -> list[OwnerReviews]:
    """Overdue reviews on ``as_of``, grouped by owner (by name; no owner last), oldest first."""
    query = (
        select(Threat)
        .outerjoin(User, User.id == Threat.owner_id)
        .options(joinedload(Threat.owner), joinedload(Threat.category))
        .where(_overdue_where(as_of))
        .order_by(User.name.is_(None), User.name, Threat.owner_id, Threat.next_review_on, Threat.id)
        .limit(limit)
    )
    groups: list[OwnerReviews] = []
    for threat in db.session.scalars(query):
        if not groups or groups[-1].owner is not threat.owner:
            groups.append(OwnerReviews(owner=threat.owner))
        groups[-1].threats.append(threat)
    return groups


def top_threats(as_of: date, n: int) -> list[ScoredThreat]:
    """The n open threats with the highest residual score on ``as_of``.

    The one ranking of the register: ``app.risk.top_threats_as_of`` (residual, inherent,
    older, id), read from the change in force on the date.
    """
    return top_threats_as_of(as_of, n)
