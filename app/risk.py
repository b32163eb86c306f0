"""Risk settings and register-wide risk queries shared by threats, countermeasures and reports.

``risk_matrix()`` and ``review_intervals()`` read the admin-editable settings;
``rescore_threat`` is the one way a threat's scores change (it keeps the history and
records the review it counts as); ``record_state`` is the one way its status, archival,
treatment and next review change (dated snapshots, ``ThreatStateChange``);
``top_threats_as_of`` ranks the register as it stood on a date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import and_, case, func, or_, select, update

from app.domain.scoring import (
    DEFAULT_MATRIX,
    DEFAULT_REVIEW_INTERVALS,
    Level,
    RiskMatrix,
    level_for,
    next_review_date,
    rank_top_threats,
    score,
)
from app.domain.scoring_methods import Assessment, MethodRules, rules_from_settings
from app.extensions import db
from app.figure_cache import register_cached
from app.models.setting import get_setting
from app.models.threats import (
    StateChangeKind,
    Threat,
    ThreatScoreChange,
    ThreatStateChange,
    ThreatStatus,
)
from app.validation import InputError

RISK_MATRIX_KEY = "risk_matrix"
REVIEW_INTERVALS_KEY = "review_intervals"
SCORING_METHODS_KEY = "scoring_methods"


def risk_matrix() -> RiskMatrix:
    stored = get_setting(RISK_MATRIX_KEY)
    if not stored:
        return DEFAULT_MATRIX
    return RiskMatrix(
        likelihood_labels=tuple(stored["likelihood_labels"]),
        impact_labels=tuple(stored["impact_labels"]),
        thresholds=tuple((Level(level), int(minimum)) for level, minimum in stored["thresholds"]),
    )


def method_rules(matrix: RiskMatrix | None = None) -> MethodRules:
    """The cut points each scoring method uses on the matrix (admin settings)."""
    return rules_from_settings(get_setting(SCORING_METHODS_KEY), matrix or risk_matrix())


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
    review: bool = True,
    next_review_on: date | None = None,
    assessment: Assessment | None = None,
) -> ThreatScoreChange:
    """Set a threat's current scores and keep the change in its history (validates ranges).

    A re-score is a review (``review``): it records one, dated ``changed_on``, whose next
    review date is ``next_review_on`` or the interval of the new residual level from then.

    ``assessment``: the scoring method that gave the inherent cell (its method, inputs,
    score and explanation are kept with the change); None keeps the threat's method and
    inputs as they were (a deployment changes the residual risk only), or the matrix for
    a threat scored on it.
    """
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
    _keep_method(threat, change, assessment)
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
    if review:
        if next_review_on is None:
            level = level_for(residual_score, matrix)
            next_review_on = next_review_date(changed_on, level, review_intervals())
        record_state(
            threat,
            changed_on,
            StateChangeKind.RESCORE,
            author_id,
            note=note or "Re-scored",
            next_review_on=next_review_on,
        )
    return change


def _keep_method(threat: Threat, change: ThreatScoreChange, assessment: Assessment | None) -> None:
    if assessment is not None:
        method, inputs = assessment.method.value, assessment.inputs
        method_score, rating = assessment.method_score, assessment.rating
        explanation = assessment.explanation[:300]
    else:
        method = threat.scoring_method or "matrix"
        inputs, method_score = threat.scoring_inputs or "", threat.method_score
        rating = threat.method_rating or ""
        latest = max(threat.score_changes, key=lambda c: (c.changed_on, c.id or 0), default=None)
        explanation = latest.method_explanation if latest is not None else ""
        if method == "matrix":
            inputs, method_score, rating, explanation = "", None, "", ""
    threat.scoring_method, threat.scoring_inputs = method, inputs
    threat.method_score, threat.method_rating = method_score, rating
    change.scoring_method, change.scoring_inputs = method, inputs
    change.method_score, change.method_rating = method_score, rating
    change.method_explanation = explanation or ""


STATE_FIELDS = ("status", "archived", "treatment", "acceptance_expires_on", "next_review_on")


def _current_state(threat: Threat) -> dict:
    return {
        "status": threat.status or ThreatStatus.IDENTIFIED,
        "archived": threat.archived_at is not None,
        "treatment": threat.treatment,
        "acceptance_expires_on": threat.acceptance_expires_on,
        "next_review_on": threat.next_review_on,
    }


def state_on(threat: Threat, day: date) -> ThreatStateChange | None:
    """The state change of ``threat`` in force on ``day`` (None before its first one)."""
    in_force = None
    for row in threat.state_changes:
        if row.changed_on <= day and (row.superseded_on is None or row.superseded_on > day):
            in_force = row
    return in_force


def last_fact_on(threat: Threat) -> date | None:
    """The date of the threat's latest dated fact (state or score change), if any."""
    dates = [c.changed_on for c in threat.score_changes]
    dates += [c.changed_on for c in threat.state_changes]
    return max(dates, default=None)


def record_state(
    threat: Threat,
    on: date,
    kind: StateChangeKind,
    author_id: int | None,
    note: str = "",
    **changes,
) -> ThreatStateChange:
    """Record the threat's state from ``on``: the state then in force with ``changes``.

    ``changes`` names fields of ``STATE_FIELDS``. Validity intervals are kept as for score
    changes (the latest entry of a day wins; a change dated before later ones lasts until
    the next). When the new row is the latest, the threat's own columns follow it.
    """
    unknown = set(changes) - set(STATE_FIELDS)
    if unknown:
        raise ValueError(f"unknown state fields: {sorted(unknown)}")
    rows = list(threat.state_changes)
    base_row = state_on(threat, on)
    if base_row is None:
        values = _current_state(threat)
    else:
        values = {name: getattr(base_row, name) for name in STATE_FIELDS}
    values.update(changes)
    row = ThreatStateChange(
        changed_on=on, kind=kind, author_id=author_id, note=note[:500], **values
    )
    later = [r.changed_on for r in rows if r.changed_on > on]
    for previous in rows:
        if previous.changed_on <= on and (
            previous.superseded_on is None or previous.superseded_on > on
        ):
            previous.superseded_on = on
    row.superseded_on = min(later, default=None)
    threat.state_changes.append(row)
    if row.superseded_on is None:
        _follow(threat, row)
    return row


def _follow(threat: Threat, row: ThreatStateChange) -> None:
    """Keep the threat's own columns (the list, sorting, filters) equal to its latest state."""
    for name in ("status", "treatment", "acceptance_expires_on", "next_review_on"):
        if getattr(threat, name) != getattr(row, name):
            setattr(threat, name, getattr(row, name))
    if row.archived and threat.archived_at is None:
        threat.archived_at = datetime.combine(row.changed_on, time(), UTC)
    elif not row.archived and threat.archived_at is not None:
        threat.archived_at = None


def _resupersede(rows: list) -> None:
    # Each entry lasts until the next one (by date, then entry order), the last for good:
    # the rule ``resync_superseded`` states in SQL, here over loaded rows.
    ordered = sorted(rows, key=lambda r: (r.changed_on, r.id or 0))
    for row, following in zip(ordered, [*ordered[1:], None], strict=True):
        superseded_on = following.changed_on if following is not None else None
        if row.superseded_on != superseded_on:
            row.superseded_on = superseded_on


def remove_score_change(threat: Threat, change: ThreatScoreChange) -> None:
    """Delete a wrong assessment (an administrator's correction; the audit log keeps its
    values). Past figures from its day read the assessment in force before it again."""
    if change.threat_id != threat.id or change not in threat.score_changes:
        raise InputError("That assessment is not in this threat's history.")
    if len(threat.score_changes) == 1:
        raise InputError(
            "A threat keeps at least one assessment: record the right scores with their "
            "date instead, then remove this one."
        )
    threat.score_changes.remove(change)
    db.session.delete(change)
    _resupersede(threat.score_changes)
    latest = max(threat.score_changes, key=lambda c: (c.changed_on, c.id or 0))
    threat.inherent_likelihood, threat.inherent_impact = (
        latest.inherent_likelihood,
        latest.inherent_impact,
    )
    threat.residual_likelihood, threat.residual_impact = (
        latest.residual_likelihood,
        latest.residual_impact,
    )
    threat.inherent_score, threat.residual_score = latest.inherent_score, latest.residual_score


def remove_state_change(threat: Threat, row: ThreatStateChange) -> None:
    """Delete a wrong status, archival or review entry (an administrator's correction; the
    audit log keeps its values). The state before it holds again until the next entry."""
    if row.threat_id != threat.id or row not in threat.state_changes:
        raise InputError("That entry is not in this threat's history.")
    first = min(threat.state_changes, key=lambda r: (r.changed_on, r.id or 0))
    if row is first:
        raise InputError(
            "The first entry is when the threat entered the register: it stays (purge an "
            "archived threat that never existed)."
        )
    threat.state_changes.remove(row)
    db.session.delete(row)
    _resupersede(threat.state_changes)
    latest = max(threat.state_changes, key=lambda r: (r.changed_on, r.id or 0))
    _follow(threat, latest)


def backfill_state_history(threat_ids: Iterable[int] | None = None) -> int:
    """Give threats without a state history the one their columns imply (bulk writers).

    Dated from the identified date (archival from the archive date): see
    ``app.domain.threat_history.initial_states``. Returns the number of rows written.
    """
    from sqlalchemy import insert

    from app.domain.threat_history import day_of, initial_states

    query = select(
        Threat.id,
        Threat.identified_on,
        Threat.status,
        Threat.archived_at,
        Threat.treatment,
        Threat.acceptance_expires_on,
        Threat.next_review_on,
    ).where(~select(ThreatStateChange.id).where(ThreatStateChange.threat_id == Threat.id).exists())
    chunks: list[list[int] | None] = [None]
    if threat_ids is not None:
        ids = sorted(set(threat_ids))
        chunks = [ids[i : i + 500] for i in range(0, len(ids), 500)]
    written = 0
    for chunk in chunks:
        selected = query if chunk is None else query.where(Threat.id.in_(chunk))
        rows = []
        for threat in db.session.execute(selected):
            for state in initial_states(
                identified_on=threat.identified_on,
                archived_on=day_of(threat.archived_at),
            ):
                rows.append(
                    {
                        "threat_id": threat.id,
                        "kind": StateChangeKind.MIGRATED,
                        "status": threat.status,
                        "treatment": threat.treatment,
                        "acceptance_expires_on": threat.acceptance_expires_on,
                        "next_review_on": threat.next_review_on,
                        "note": "",
                        **state,
                    }
                )
        for start in range(0, len(rows), 1000):
            db.session.execute(insert(ThreatStateChange), rows[start : start + 1000])
        written += len(rows)
    return written


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
    # The threat's state that day, looked up per threat (a correlated subquery, which the
    # planners run as an index lookup per row rather than hashing every state). Archival
    # is read, not filtered on, so SQLite looks the row up by threat id (in-force index)
    # instead of scanning the register index for every row.
    status = (
        select(case((states.c.archived.is_(True), None), else_=states.c.status))
        .where(states.c.threat_id == Threat.id, *state_in_force_on(as_of, states))
        .limit(1)
        .scalar_subquery()
    )
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
