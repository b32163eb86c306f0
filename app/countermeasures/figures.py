"""Countermeasure figures per fiscal quarter: the one home of the numbers the quarter page,
the OKR metrics, the dashboard and the PDF report show.

Counting rules live in ``app.domain.countermeasures``; this module runs the queries.
"""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from app.domain.countermeasures import (
    CountermeasureFact,
    TopThreatTreatment,
    fiscal_year_start,
)
from app.domain.countermeasures import top_threats_treated as _rank_treated
from app.domain.quarters import Quarter
from app.extensions import db
from app.models.countermeasures import (
    Countermeasure,
    CountermeasureTargetPeriod,
    countermeasure_threats,
)
from app.models.setting import get_setting
from app.models.threats import ThreatScoreChange
from app.threats.as_of import top_threats_as_of

QUARTER_TARGET_KEY = "countermeasures_per_quarter"
YEARLY_GOAL_KEY = "countermeasures_yearly_goal"
DEFAULT_QUARTER_TARGET = 2
DEFAULT_YEARLY_GOAL = 6
# A score change and an earlier one of the same threat, as plain table rows: the credit
# query compares the two without building ORM entities.
_SCORE_CHANGE = ThreatScoreChange.__table__.alias("change")
_EARLIER_CHANGE = ThreatScoreChange.__table__.alias("earlier")

__all__ = [
    "TopThreatTreatment",
    "countermeasures_deployed",
    "countermeasures_deployed_to_date",
    "deployed_in_quarter",
    "deployed_in_quarter_query",
    "quarter_target",
    "residual_reduction",
    "residual_reductions_for",
    "slipped_count",
    "slipped_countermeasures",
    "slipped_query",
    "top_threats_treated",
    "yearly_goal",
]


def quarter_target() -> int:
    """Countermeasures to deploy per quarter, also the N of the quarter's top N threats."""
    return int(get_setting(QUARTER_TARGET_KEY, DEFAULT_QUARTER_TARGET))


def yearly_goal() -> int:
    """Countermeasures to deploy over the fiscal year (the key result's goal)."""
    return int(get_setting(YEARLY_GOAL_KEY, DEFAULT_YEARLY_GOAL))


def _deployed_between(first, last):
    return Countermeasure.deployed_on.between(first, last)


def countermeasures_deployed(quarter: Quarter) -> int:
    """Countermeasures whose deployment date falls inside ``quarter``.

    The deployment date decides the quarter, whatever the status is now: a countermeasure
    retired since still counts in the quarter it was deployed.
    """
    return db.session.execute(
        select(func.count(Countermeasure.id)).where(
            _deployed_between(quarter.first_day, quarter.last_day)
        )
    ).scalar_one()


def countermeasures_deployed_to_date(quarter: Quarter) -> int:
    """Countermeasures deployed from the fiscal year's first day to ``quarter``'s last day
    (retired ones included, counted by their deployment date)."""
    return db.session.execute(
        select(func.count(Countermeasure.id)).where(
            _deployed_between(fiscal_year_start(quarter), quarter.last_day)
        )
    ).scalar_one()


def deployed_in_quarter_query(quarter: Quarter):
    return (
        select(Countermeasure)
        .where(_deployed_between(quarter.first_day, quarter.last_day))
        .options(
            selectinload(Countermeasure.threats),
            selectinload(Countermeasure.owner),
            selectinload(Countermeasure.verified_by),
        )
        .order_by(Countermeasure.deployed_on, Countermeasure.id)
    )


def deployed_in_quarter(quarter: Quarter) -> list[Countermeasure]:
    """Countermeasures deployed inside ``quarter`` (retired ones too), by deployment date."""
    return list(db.session.scalars(deployed_in_quarter_query(quarter)))


def _slipped_day(quarter: Quarter):
    """The day "slipped" is read on: the quarter's end, or today while it runs."""
    from app import fiscal

    return min(quarter.last_day, fiscal.today())


def slipped_where(quarter: Quarter):
    day = _slipped_day(quarter)
    # The target quarter in force on that day (a later re-plan does not rewrite it).
    targeted = select(CountermeasureTargetPeriod.countermeasure_id).where(
        CountermeasureTargetPeriod.target_quarter_start == quarter.first_day,
        CountermeasureTargetPeriod.valid_from <= day,
        or_(
            CountermeasureTargetPeriod.valid_until.is_(None),
            CountermeasureTargetPeriod.valid_until > day,
        ),
    )
    return and_(
        Countermeasure.id.in_(targeted),
        or_(Countermeasure.deployed_on.is_(None), Countermeasure.deployed_on > quarter.last_day),
    )


def slipped_query(quarter: Quarter):
    """Planned for ``quarter`` on its last day (today while it runs) and not deployed
    within it: not yet, later, or dropped. One deployed before its target is not slipped."""
    return (
        select(Countermeasure)
        .where(slipped_where(quarter))
        .options(selectinload(Countermeasure.threats), selectinload(Countermeasure.owner))
        .order_by(Countermeasure.title, Countermeasure.id)
    )


def slipped_count(quarter: Quarter) -> int:
    """How many countermeasures slipped in ``quarter`` (``slipped_query``'s rows)."""
    return db.session.execute(
        select(func.count(Countermeasure.id)).where(slipped_where(quarter))
    ).scalar_one()


def slipped_countermeasures(quarter: Quarter) -> list[Countermeasure]:
    """Planned for ``quarter`` and not deployed within it (not yet, later, or dropped).

    While the quarter is still running these are simply not deployed yet.
    """
    return list(db.session.scalars(slipped_query(quarter)))


def top_threats_treated(quarter: Quarter, n: int) -> list[TopThreatTreatment]:
    """The top ``n`` threats as they stood on the quarter's first day, each with the
    countermeasures treating it that were deployed in the quarter.

    The ranking is ``app.threats.risk.top_threats_as_of`` (remembered per process until the
    register changes, ``app.figure_cache``)."""
    top = top_threats_as_of(quarter.first_day, n)
    if not top:
        return []
    rows = db.session.execute(
        select(
            Countermeasure.id,
            Countermeasure.title,
            Countermeasure.status,
            Countermeasure.deployed_on,
            Countermeasure.target_quarter_start,
            countermeasure_threats.c.threat_id,
        )
        .join(
            countermeasure_threats, countermeasure_threats.c.countermeasure_id == Countermeasure.id
        )
        .where(
            and_(
                countermeasure_threats.c.threat_id.in_([t.id for t in top]),
                _deployed_between(quarter.first_day, quarter.last_day),
            )
        )
    ).all()
    facts: dict[int, CountermeasureFact] = {}
    threat_ids: dict[int, set[int]] = {}
    for cm_id, title, status, deployed_on, target, threat_id in rows:
        threat_ids.setdefault(cm_id, set()).add(threat_id)
        facts[cm_id] = CountermeasureFact(cm_id, title, status.name, deployed_on, target)
    merged = [
        CountermeasureFact(
            f.id,
            f.title,
            f.status,
            f.deployed_on,
            f.target_quarter_start,
            frozenset(threat_ids[f.id]),
        )
        for f in facts.values()
    ]
    return _rank_treated(top, merged, quarter)


def residual_reductions_for(countermeasure_ids) -> dict[int, int]:
    """Residual-score reduction credited to each of these countermeasures, in one query.

    For every score change a countermeasure brought, the reduction is the threat's residual
    score just before that change (by date, then id) minus the new one (a rise counts
    negative); a change with nothing before it credits nothing. Only the changes these
    countermeasures brought are read, each beside the one before it, summed in the database.
    """
    ids = list(countermeasure_ids)
    if not ids:
        return {}
    change, earlier = _SCORE_CHANGE.c, _EARLIER_CHANGE.c
    before = (
        select(earlier.residual_score)
        .where(
            earlier.threat_id == change.threat_id,
            earlier.changed_on <= change.changed_on,
            or_(earlier.changed_on < change.changed_on, earlier.id < change.id),
        )
        .order_by(earlier.changed_on.desc(), earlier.id.desc())
        .limit(1)
        .correlate(_SCORE_CHANGE)
        .scalar_subquery()
    )
    credited = func.sum(func.coalesce(before - change.residual_score, 0))
    rows = db.session.execute(
        select(change.countermeasure_id, credited)
        .select_from(_SCORE_CHANGE)
        .where(change.countermeasure_id.in_(ids))
        .group_by(change.countermeasure_id)
    )
    return {cm_id: int(total) for cm_id, total in rows}


def residual_reduction(countermeasure: Countermeasure) -> int:
    """Residual score the countermeasure's deployment took off the threats it treats:
    for each score change it brought, the residual score just before minus the new one."""
    return residual_reductions_for([countermeasure.id]).get(countermeasure.id, 0)
