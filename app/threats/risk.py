"""Risk settings and register-wide risk queries shared by threats, countermeasures and reports.

``risk_matrix()`` and ``review_intervals()`` read the admin-editable settings;
``rescore_threat`` is the one way a threat's scores change (it keeps the history and
records the review it counts as); ``record_state`` is the one way its status, archival,
treatment and next review change (dated snapshots, ``ThreatStateChange``);
the register as it stood on a date is ``app.threats.as_of``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time

from sqlalchemy import and_, func, or_, select, update

from app.domain.scoring import (
    DEFAULT_MATRIX,
    DEFAULT_REVIEW_INTERVALS,
    Level,
    RiskMatrix,
    level_for,
    next_review_date,
    score,
)
from app.domain.scoring_methods import Assessment, MethodRules, rules_from_settings
from app.extensions import db
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
    scores = score_columns(inherent, residual, matrix)
    for name, value in scores.items():
        setattr(threat, name, value)
    residual_score = scores["residual_score"]
    change = ThreatScoreChange(
        changed_on=changed_on,
        **scores,
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


def score_columns(
    inherent: tuple[int, int], residual: tuple[int, int], matrix: RiskMatrix
) -> dict[str, int]:
    """The cells and scores a threat and its history row keep for one assessment."""
    return {
        "inherent_likelihood": inherent[0],
        "inherent_impact": inherent[1],
        "residual_likelihood": residual[0],
        "residual_impact": residual[1],
        "inherent_score": score(*inherent, matrix),
        "residual_score": score(*residual, matrix),
    }


def method_columns(assessment: Assessment | None) -> dict:
    """The scoring method a threat and its history row keep (None: the matrix)."""
    if assessment is None:
        return {"scoring_method": "matrix", "scoring_inputs": "", "method_score": None,
                "method_rating": ""}  # fmt: skip
    return {
        "scoring_method": assessment.method.value,
        "scoring_inputs": assessment.inputs,
        "method_score": assessment.method_score,
        "method_rating": assessment.rating,
    }


def _keep_method(threat: Threat, change: ThreatScoreChange, assessment: Assessment | None) -> None:
    if assessment is not None:
        given = method_columns(assessment)
        method, inputs = given["scoring_method"], given["scoring_inputs"]
        method_score, rating = given["method_score"], given["method_rating"]
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


def _take_out(history: list, row):
    """Delete a wrong entry of a dated history and re-date the rest: the latest left."""
    history.remove(row)
    db.session.delete(row)
    _resupersede(history)
    return max(history, key=lambda r: (r.changed_on, r.id or 0))


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
    latest = _take_out(threat.score_changes, change)
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
    _follow(threat, _take_out(threat.state_changes, row))


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
