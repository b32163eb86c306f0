"""Business rules of the threat register: create, edit, score, treat, archive, purge.

Every function takes plain values (the forms, the API and the CSV import all call
them), checks them, changes the session, flushes, and raises
``app.validation.InputError({field: message})`` when something is wrong, before
anything is changed. The caller commits (or rolls back on error).

``create_threat`` and ``update_threat`` take the threat's values as keyword arguments,
beside ``author_id`` (and, to edit, ``version``). Accepted keywords (create: missing ones
take the default shown; update: missing ones keep the threat's current value):

- ``title`` (str, required, at most 200 characters)
- ``description`` (str, at most 20,000 characters; default "")
- ``category_id`` (int or None)
- ``source`` (``ThreatSource`` or its name/value, e.g. "incident"; default internal)
- ``feed_id`` (int or None; only for source ``threat_intel``)
- ``owner_id`` (int or None: an active user)
- ``status`` (``ThreatStatus`` or name/value; default identified)
- ``treatment`` (``Treatment`` or name/value, or None/"" for undecided)
- ``treatment_rationale`` (str, at most 5,000 characters)
- ``acceptance_approver_id`` (int; required for ``accept``: a manager or admin)
- ``acceptance_expires_on`` (date or ISO text; required for ``accept``)
- ``identified_on`` (date or ISO text; default today; not in the future)
- ``next_review_on`` (date or ISO text; None or "" = identified date (create) or today
  (update) plus the review interval of the residual level)
- ``inherent_likelihood``, ``inherent_impact``, ``residual_likelihood``,
  ``residual_impact`` (int or digit text, 1..size of the matrix; required on create).
  A change to any of them records a score change (history) dated ``scored_on``.
- ``scored_on`` (date or ISO text; default: identified date on create, today on update;
  not before the last assessment, not in the future)
- ``score_note`` (str, at most 300 characters: why the scores changed)
- ``status_changed_on`` (date or ISO text; default today): the day a change of status,
  treatment, acceptance or next review took effect; not in the future, not before the
  threat's latest dated fact. Each such change is a dated fact (``ThreatStateChange``).
- ``scoring_method`` ("matrix" (default), "cvss", "owasp" or "dread"; update: default
  the threat's current method) and ``scoring_inputs`` (the CVSS vector, or the factors
  as a mapping or JSON text): a method other than the matrix gives the inherent
  likelihood and impact (``app.domain.scoring_methods``); given as well, they must agree.
  The residual risk stays on the matrix (countermeasures' effect is judged there).
- ``system_ids`` (list of int: the affected systems)
- ``tags`` (list of str, or one comma-separated str; at most 20 tags of 60 characters)
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from app import fiscal
from app.bulk import (
    audit_imported,
    ids_by_name,
    insert_links,
    insert_returning_ids,
    insert_rows,
    stamped,
)
from app.domain.scoring import RiskMatrix
from app.domain.threat_history import refusal_for_date
from app.extensions import db
from app.models.systems import System
from app.models.threats import Tag, Threat, ThreatScoreChange, threat_systems, threat_tags
from app.threats import search
from app.threats.checks import (
    _check,
    _current_values,
    _default_review,
    _matrix_assessment,
    _reassessed,
    check_new_threat,
)
from app.threats.inputs import SCORE_FIELDS, STORED_AS_READ
from app.threats.risk import (
    StateChangeKind,
    backfill_state_history,
    last_fact_on,
    method_columns,
    record_state,
    rescore_threat,
    resync_superseded,
    risk_matrix,
    score_columns,
)
from app.threats.states import _describe_state_change
from app.validation import ConflictError, InputError


def _tags_named(names: list[str]) -> list[Tag]:
    if not names:
        return []
    existing = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    tags = []
    for name in names:
        tag = existing.get(name)
        if tag is None:
            tag = Tag(name=name)
            db.session.add(tag)
        tags.append(tag)
    return tags


STATE_KEYS = ("status", "treatment", "acceptance_expires_on")
# A new threat's row takes its fields as read (``STORED_AS_READ``) and its first state;
# the state changes as dated facts once it exists. The synthetic data also gives its own
# ids and threats archived from the start.
NEW_KEYS = (*STORED_AS_READ, *STATE_KEYS, "next_review_on")
GIVEN_KEYS = ("id", "archived_at")


def _new_threat_columns(clean: dict) -> dict:
    """A new threat's plain columns from its checked values (``check_new_threat``)."""
    return {
        **{key: clean[key] for key in NEW_KEYS},
        **{key: clean[key] for key in GIVEN_KEYS if key in clean},
    }


def _apply(threat: Threat, clean: dict, state: bool = True) -> None:
    """Set the threat's plain fields; its state (``STATE_KEYS``) too unless ``state`` is
    False (an update records the state as a dated fact instead)."""
    keys = list(STORED_AS_READ)
    if state:
        keys += STATE_KEYS
    for key in keys:
        if getattr(threat, key) != clean[key]:
            setattr(threat, key, clean[key])
    _link(threat, clean)


def _link(threat: Threat, clean: dict) -> None:
    """The threat's systems and tags (the tags created when new)."""
    wanted = clean["system_ids"]
    if sorted(s.id for s in threat.systems) != sorted(wanted):
        threat.systems = list(db.session.scalars(select(System).where(System.id.in_(wanted))))
    if sorted(t.name for t in threat.tags) != sorted(clean["tags"]):
        threat.tags = _tags_named(clean["tags"])


def create_threat(*, author_id: int | None, **values: Any) -> Threat:
    """Add a threat with its first assessment; see the module docstring for the keys."""
    clean = check_new_threat(values)
    scored_on = clean["scored_on"]
    # One flush at the end, so the audit log holds one "create" row with the final values.
    with db.session.no_autoflush:
        threat = Threat(**_new_threat_columns(clean))
        _link(threat, clean)
        rescore_threat(
            threat,
            inherent=(clean["inherent_likelihood"], clean["inherent_impact"]),
            residual=(clean["residual_likelihood"], clean["residual_impact"]),
            changed_on=scored_on,
            author_id=author_id,
            note=clean["score_note"] or "First assessment",
            review=False,
            assessment=clean["assessment"] or _matrix_assessment(clean),
        )
        threat.next_review_on = clean["next_review_on"]  # not the re-score's default
        record_state(
            threat, clean["identified_on"], StateChangeKind.CREATED, author_id, note="Identified"
        )
        db.session.add(threat)
    db.session.flush()
    search.reindex(threat)
    return threat


def _assessment_date(threat: Threat, clean: dict, today: date) -> date:
    """The day a re-score is dated: not in the future, not before the last assessment or
    the identified date."""
    scored_on = clean["scored_on"] or today
    last = max((c.changed_on for c in threat.score_changes), default=None)
    errors: dict[str, str] = {}
    if scored_on > today:
        errors["scored_on"] = "The assessment cannot be dated in the future."
    elif last is not None and scored_on < last:
        errors["scored_on"] = (
            f"The assessment cannot be dated before the last one ({last.isoformat()})."
        )
    elif scored_on < clean["identified_on"]:
        errors["scored_on"] = "The assessment cannot be dated before the threat was identified."
    if errors:
        raise InputError(errors)
    return scored_on


def _dated_state_changes(
    threat: Threat, clean: dict, rescored: bool, today: date
) -> tuple[dict, date | None, date]:
    """The state changes (status, treatment, acceptance, next review), the next review given
    beside a re-score, and the day the changes take effect; refused if that day is wrong."""
    # Status, treatment, acceptance and next review are dated facts: what changes, and when.
    state_changes = {k: clean[k] for k in STATE_KEYS if clean[k] != getattr(threat, k)}
    explicit_review = clean["next_review_on"]
    if explicit_review == threat.next_review_on:
        explicit_review = None  # left as it was: a re-score moves it by the level's interval
    status_on = clean["status_changed_on"] or today
    if not rescored:
        if explicit_review is not None:
            state_changes["next_review_on"] = explicit_review
        elif clean["next_review_on"] is None:
            state_changes["next_review_on"] = _default_review(status_on, threat.residual_score)
    elif explicit_review is not None and state_changes:
        state_changes["next_review_on"] = explicit_review
        explicit_review = None
    if state_changes:
        refusal = refusal_for_date(status_on, today, last_fact_on(threat), "change")
        if refusal is None and status_on < clean["identified_on"]:
            refusal = "The change cannot be dated before the threat was identified."
        if refusal:
            raise InputError({"status_changed_on": refusal})
    return state_changes, explicit_review, status_on


def update_threat(
    threat: Threat, *, author_id: int | None, version: int | None = None, **values: Any
) -> Threat:
    """Change a threat; missing keys keep their value. A score change is kept in the history.

    Raises ConflictError when ``version`` (the version the editor read) is not
    the threat's current version: someone else saved in between; nothing is changed.
    """
    if version is not None and version != threat.version:
        raise ConflictError(
            "Someone else changed this threat since you opened it. "
            "Nothing was saved: reload it to see their changes, then edit again."
        )
    if threat.archived_at is not None:
        raise InputError("Restore the threat before editing it.")
    merged = _current_values(threat)
    merged.update(values)
    if "next_review_on" not in values:
        merged["next_review_on"] = threat.next_review_on
    clean = _check(merged, threat, given=values)
    reassessed = _reassessed(threat, clean)
    today = fiscal.today()
    first = min((c.changed_on for c in threat.score_changes), default=None)
    if first is not None and clean["identified_on"] > first:
        raise InputError(
            {
                "identified_on": f"The threat was first assessed on {first.isoformat()}; "
                "it cannot have been identified after that."
            }
        )
    new_scores = tuple(clean[f] for f in SCORE_FIELDS)
    old_scores = tuple(getattr(threat, f) for f in SCORE_FIELDS)
    rescored = new_scores != old_scores or reassessed
    if rescored:
        scored_on = _assessment_date(threat, clean, today)
    state_changes, explicit_review, status_on = _dated_state_changes(threat, clean, rescored, today)
    text_changed = (clean["title"], clean["description"]) != (threat.title, threat.description)
    # Facts are recorded in date order (the earlier one first) so each snapshot is right.
    events = []
    if rescored:
        events.append((scored_on, 0))
    if state_changes:
        events.append((status_on, 1))
    # One flush at the end, so one edit is one "update" row in the audit log.
    with db.session.no_autoflush:
        _apply(threat, clean, state=False)
        for _on, what in sorted(events):
            if what == 0:
                rescore_threat(
                    threat,
                    inherent=new_scores[:2],
                    residual=new_scores[2:],
                    changed_on=scored_on,
                    author_id=author_id,
                    note=clean["score_note"],
                    next_review_on=explicit_review,
                    assessment=clean["assessment"] or _matrix_assessment(clean)
                    if reassessed
                    else None,
                )
            else:
                record_state(
                    threat,
                    status_on,
                    StateChangeKind.STATUS,
                    author_id,
                    note=_describe_state_change(threat, state_changes),
                    **state_changes,
                )
    db.session.flush()
    if text_changed:
        search.reindex(threat)
    return threat


def create_threats(
    cleans: list[dict],
    author_id: int | None,
    note: str = "Imported from CSV",
    audited: bool = True,
) -> list[int]:
    """Add many checked threats (``check_new_threat``'s values, category and feed as ids)
    in bulk, as ``create_threat`` would one by one: each with its first assessment (or the
    assessments given in ``history``), its dated state from the day it was identified,
    its systems, tags and search words, and an "import" audit row unless not ``audited``
    (the synthetic data). Returns the new threats' ids, in order."""
    matrix = risk_matrix()
    rows = [
        stamped(
            {
                **_new_threat_columns(clean),
                **score_columns(*_scores(clean), matrix),
                **method_columns(clean["assessment"]),
            }
        )
        for clean in cleans
    ]
    # The tables, not the models: the ORM's bulk path splits rows by their empty values.
    ids = insert_returning_ids(Threat.__table__, rows)
    insert_rows(
        ThreatScoreChange.__table__,
        [
            change
            for threat_id, clean in zip(ids, cleans, strict=True)
            for change in _history_rows(threat_id, clean, matrix, author_id, note)
        ],
    )
    # Their status, treatment and next review: dated facts from the day each was identified.
    backfill_state_history(ids)
    _link_new(ids, cleans)
    search.index_new(
        (threat_id, row["title"], row["description"])
        for threat_id, row in zip(ids, rows, strict=True)
    )
    if audited:
        audit_imported(
            Threat,
            ids,
            [
                {**row, "system_ids": clean["system_ids"], "tags": clean["tags"]}
                for row, clean in zip(rows, cleans, strict=True)
            ],
            "title",
        )
    return ids


Scores = tuple[tuple[int, int], tuple[int, int]]


def _scores(clean: dict) -> Scores:
    return (
        (clean["inherent_likelihood"], clean["inherent_impact"]),
        (clean["residual_likelihood"], clean["residual_impact"]),
    )


def _history_rows(
    threat_id: int, clean: dict, matrix: RiskMatrix, author_id: int | None, note: str
) -> list[dict]:
    """A new threat's assessments, each in force until the next: its scores on the day it
    was identified, or the dated ones given in ``history`` (the last its current scores)."""
    history: list[tuple[date, Scores]] = clean.get("history") or [
        (clean["identified_on"], _scores(clean))
    ]
    assessment = clean["assessment"]
    method = {
        **method_columns(assessment),
        "method_explanation": assessment.explanation[:300] if assessment else "",
    }
    return [
        {
            "threat_id": threat_id,
            "changed_on": on,
            "superseded_on": history[k + 1][0] if k + 1 < len(history) else None,
            **score_columns(*scores, matrix),
            "author_id": author_id,
            "note": note,
            **method,
        }
        for k, (on, scores) in enumerate(history)
    ]


def _link_new(ids: list[int], cleans: list[dict]) -> None:
    """New threats' systems and tags (the tags created when new)."""
    tags = ids_by_name(Tag, {name for clean in cleans for name in clean["tags"]})
    insert_links(
        threat_systems, "threat_id", ids, "system_id", [clean["system_ids"] for clean in cleans]
    )
    insert_links(
        threat_tags,
        "threat_id",
        ids,
        "tag_id",
        [dict.fromkeys(tags[name.casefold()] for name in clean["tags"]) for clean in cleans],
    )


def add_assessments(changes: list[dict], author_id: int | None = None) -> None:
    """Dated assessments added to existing threats in bulk (each: ``threat_id``,
    ``changed_on``, ``inherent`` and ``residual`` (likelihood, impact), ``countermeasure_id``,
    ``note``), scored as ``rescore_threat`` scores them; each threat's history is then
    chained again (the change a new one interrupts ends on its day). The threats' own
    columns are not touched: the caller adds them at the threats' current scores."""
    matrix = risk_matrix()
    insert_rows(
        ThreatScoreChange.__table__,
        [
            {
                "threat_id": change["threat_id"],
                "changed_on": change["changed_on"],
                **score_columns(change["inherent"], change["residual"], matrix),
                "author_id": author_id,
                "countermeasure_id": change["countermeasure_id"],
                "note": change["note"],
            }
            for change in changes
        ],
    )
    resync_superseded({change["threat_id"] for change in changes})
