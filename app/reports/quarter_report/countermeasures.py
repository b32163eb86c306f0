"""The countermeasures section: deployments against the quarter's target, score steps of
the top threats, slipped deployments."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.domain.quarters import Quarter, quarters_of_fiscal_year
from app.domain.targets import quarter_target as _kr_quarter_target
from app.extensions import db
from app.models.okrs import Objective
from app.reports.quarter_report.sections import COUNTERMEASURE_METRICS, LIST_CAP
from app.reports.quarter_report.values import (
    CountermeasureLine,
    CountermeasureSection,
    ScoreStep,
    TopThreatTreatment,
)


def score_steps(
    threat_ids: list[int], first_day: date, as_of: date
) -> dict[int, tuple[int | None, list[ScoreStep]]]:
    """For each threat: its residual score in force on ``first_day`` and every recorded
    change after it up to ``as_of`` (deployments with their countermeasure, manual
    re-scores with their note), in the order the as-of figures apply them."""
    from app.models.countermeasures import Countermeasure
    from app.models.threats import ThreatScoreChange as C

    if not threat_ids:
        return {}
    rows = db.session.execute(
        select(C.threat_id, C.changed_on, C.residual_score, Countermeasure.title, C.note)
        .outerjoin(Countermeasure, Countermeasure.id == C.countermeasure_id)
        .where(C.threat_id.in_(threat_ids), C.changed_on <= as_of)
        .order_by(C.threat_id, C.changed_on, C.id)
    )
    found: dict[int, tuple[int | None, list[ScoreStep]]] = {t: (None, []) for t in threat_ids}
    for threat_id, changed_on, residual, countermeasure, note in rows:
        start, steps = found[threat_id]
        if changed_on <= first_day:
            found[threat_id] = (residual, steps)
            continue
        before = steps[-1].after if steps else start
        steps.append(ScoreStep(changed_on, before, residual, countermeasure or "", note or ""))
    return found


def _kr_target(objective: Objective | None, quarter: Quarter) -> tuple[int | None, int, str] | None:
    """(quarter target, yearly goal, KR code) from the objective's countermeasure key result
    with a numeric goal, or None when it has none."""
    if objective is None:
        return None
    for kr in objective.key_results:
        if kr.metric in COUNTERMEASURE_METRICS and kr.goal_value:
            quarters = quarters_of_fiscal_year(quarter.fiscal_year, quarter.start_month)
            target = _kr_quarter_target(kr.goal_value, quarters, kr.baseline_quarter_start, quarter)
            return target, int(kr.goal_value), kr.code or "the key result"
    return None


def gather_countermeasures(
    quarter: Quarter,
    detail: bool = True,
    objective: Objective | None = None,
    as_of: date | None = None,
) -> CountermeasureSection:
    from app.countermeasures import figures as cms
    from app.models.countermeasures import Countermeasure

    as_of = as_of or quarter.last_day
    from_kr = _kr_target(objective, quarter)
    if from_kr is not None:
        quarter_target, yearly_goal, source = from_kr
    else:
        quarter_target, yearly_goal, source = cms.quarter_target(), cms.yearly_goal(), ""
    previous = quarter.previous()
    section = CountermeasureSection(
        deployed_in_quarter=cms.countermeasures_deployed(quarter),
        deployed_to_date=cms.countermeasures_deployed_to_date(quarter),
        quarter_target=quarter_target,
        yearly_goal=yearly_goal,
        deployed=[],
        top_treated=[],
        slipped=[],
        slipped_count=cms.slipped_count(quarter),
        previous_to_date=(
            cms.countermeasures_deployed_to_date(previous)
            if previous.fiscal_year == quarter.fiscal_year
            else 0
        ),
        target_source=source,
    )
    if not detail:
        return section
    top_by_cm: dict[int, list[str]] = {}
    treated = cms.top_threats_treated(quarter, cms.quarter_target())
    steps = score_steps([e.threat.id for e in treated], quarter.first_day, as_of)
    for entry in treated:
        start, changes = steps.get(entry.threat.id, (None, []))
        start = entry.threat.residual_score if start is None else start
        section.top_treated.append(
            TopThreatTreatment(
                title=entry.threat.title,
                residual_score=start,
                treated_by=tuple(c.title for c in entry.countermeasures),
                rank=entry.rank,
                end_residual=changes[-1].after if changes else start,
                steps=tuple(changes),
            )
        )
        for c in entry.countermeasures:
            top_by_cm.setdefault(c.id, []).append(entry.threat.title)
    # Every deployment of the quarter as plain rows, the ones that took most off the
    # register's residual scores first.
    rows = list(
        db.session.execute(
            select(Countermeasure.id, Countermeasure.title, Countermeasure.deployed_on).where(
                cms._deployed_between(quarter.first_day, quarter.last_day)
            )
        ).all()
    )
    reductions = cms.residual_reductions_for([r.id for r in rows])
    rows.sort(key=lambda r: (-reductions.get(r.id, 0), r.deployed_on, r.id))
    section.deployed = [
        CountermeasureLine(
            id=r.id,
            title=r.title,
            deployed_on=r.deployed_on,
            top_threats=tuple(top_by_cm.get(r.id, ())),
            reduction=reductions.get(r.id, 0),
        )
        for r in rows[:LIST_CAP]
    ]
    section.slipped = [
        CountermeasureLine(id=c.id, title=c.title, deployed_on=c.deployed_on)
        for c in db.session.scalars(cms.slipped_query(quarter).limit(LIST_CAP))
    ]
    return section
