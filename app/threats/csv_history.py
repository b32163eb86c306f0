"""The threats' history files (scores, and dated states): their CSV columns, the rows an
export writes, and how an import adds them to each threat's history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import fiscal
from app.domain.scoring_methods import Assessment, Method, MethodError, assess, parse_method
from app.extensions import db
from app.models import (
    Threat,
    ThreatScoreChange,
    ThreatStateChange,
    ThreatStatus,
    Treatment,
)
from app.models.threats import StateChangeKind
from app.threats import queries as threat_queries
from app.threats.csv import _method_columns, _score_cell
from app.threats.risk import method_rules
from app.transfer import cells as c
from app.transfer.bulk import (
    Lookups,
    _chunks,
    _email_of,
    _one,
    _one_of,
    date_field,
    enum_field,
    flag_field,
)
from app.transfer.csv_format import CellError, Column, ParsedRow


def _threat_columns(model) -> list[Column]:
    """Which threat a history row belongs to: its id (exported only) and its title."""
    return [
        Column("Threat id", "threat_ref", lambda: model.threat_id, None, kind="int"),
        Column(
            "Threat",
            "threat_id",
            lambda: _one(model, Threat, Threat.title, model.threat_id),
            lambda r, lk: _threat_id(r, lk),
            required=True,
        ),
    ]


# ---- threat score history (the second threats file) ---------------------------------------
# One row per assessment, oldest first per threat. Import the threats first (their file
# holds each threat's current scores), then this file: its rows are added to each threat's
# history in order, dated "Assessed on"; each is a re-score (and a review) as on the form.

THREAT_SCORE_COLUMNS = [
    *_threat_columns(ThreatScoreChange),
    date_field("Assessed on", ThreatScoreChange, "changed_on", required=True),
    Column(
        "Superseded on",
        "superseded_on",
        lambda: ThreatScoreChange.superseded_on,
        None,
        kind="date",
    ),
    _score_cell("inherent_likelihood", "Inherent likelihood", ThreatScoreChange, False),
    _score_cell("inherent_impact", "Inherent impact", ThreatScoreChange, False),
    Column(
        "Inherent score",
        "inherent_score",
        lambda: ThreatScoreChange.inherent_score,
        None,
        kind="int",
    ),
    _score_cell("residual_likelihood", "Residual likelihood", ThreatScoreChange),
    _score_cell("residual_impact", "Residual impact", ThreatScoreChange),
    Column(
        "Residual score",
        "residual_score",
        lambda: ThreatScoreChange.residual_score,
        None,
        kind="int",
    ),
    Column(
        "Author email",
        "author",
        lambda: _email_of(ThreatScoreChange, ThreatScoreChange.author_id),
        None,
    ),
    Column("Note", "note", lambda: ThreatScoreChange.note, c.text(300)),
    *_method_columns(ThreatScoreChange),
]


def _threat_id(raw: str, lookups: Lookups) -> int:
    return _one_of(lookups.threats(), raw.strip(), "threat")


def _threat_history_list(model):
    """The list of a threat history file (``model``: score or state changes): oldest first
    per threat; ``threat=<id>``: one threat's, ``archived=1``: those of archived threats too."""

    def query_of(args: Mapping):
        query = select(model)
        threat_id = threat_queries.int_arg(args, "threat")
        if threat_id is not None:
            query = query.where(model.threat_id == threat_id)
        if args.get("archived") != "1":
            query = query.where(
                model.threat_id.in_(select(Threat.id).where(Threat.archived_at.is_(None)))
            )
        return query.order_by(model.threat_id, model.changed_on, model.id)

    return query_of


_threat_score_list = _threat_history_list(ThreatScoreChange)


def _dated_in_order(
    rows: list[ParsedRow], date_key: str, column: str, what: str, latest_of
) -> list[CellError]:
    """Each row's date: not in the future, not before its threat was identified, and in
    order after the threat's latest recorded fact and the file's earlier rows for it.

    ``latest_of(chunk of threat ids)`` yields (threat id, identified on, latest fact date).
    """
    errors = []
    threat_ids = sorted({r.values["threat_id"] for r in rows if r.values.get("threat_id")})
    known = {}
    for chunk in _chunks(threat_ids):
        known.update({tid: (first, last) for tid, first, last in latest_of(chunk)})
    today = fiscal.today()
    previous: dict[int, tuple[date, int]] = {}
    for row in rows:
        tid, day = row.values.get("threat_id"), row.values.get(date_key)
        if tid is None or day is None or tid not in known:
            continue
        identified, last = known[tid]
        message = None
        if day > today:
            message = "It is in the future."
        elif day < identified:
            message = f"Before the threat was identified ({identified.isoformat()})."
        elif tid in previous and day < previous[tid][0]:
            before_day, before_line = previous[tid]
            message = (
                f"Out of order: before line {before_line}'s {what} of the same threat "
                f"({before_day.isoformat()}); list each threat's rows oldest first."
            )
        elif tid not in previous and last is not None and day < last:
            message = (
                f"Out of order: before the threat's last recorded {what} ({last.isoformat()})."
            )
        if message:
            errors.append(CellError(row.line, column, message))
        else:  # the next row of the threat follows this one
            previous[tid] = (day, row.line)
    return errors


def _latest_score(chunk):
    return db.session.execute(
        select(Threat.id, Threat.identified_on, func.max(ThreatScoreChange.changed_on))
        .outerjoin(ThreatScoreChange, ThreatScoreChange.threat_id == Threat.id)
        .where(Threat.id.in_(chunk))
        .group_by(Threat.id, Threat.identified_on)
    )


def check_threat_scores(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    """Each row: scores the register accepts, dated in order after what the threat holds."""
    errors = _dated_in_order(rows, "changed_on", "Assessed on", "assessment", _latest_score)
    rules = method_rules(lookups.matrix)
    for row in rows:
        v = row.values
        errors += _history_method(row, rules)
        axes = [v.get(k) for k in ("inherent_likelihood", "inherent_impact")]
        axes += [v.get(k) for k in ("residual_likelihood", "residual_impact")]
        il, ii, rl, ri = axes
        if (
            il is not None
            and ii is not None
            and rl is not None
            and ri is not None
            and (rl * ri > il * ii)
        ):
            errors.append(
                CellError(
                    row.line,
                    "Residual impact",
                    f"The residual score ({rl * ri}) cannot exceed the inherent score ({il * ii}).",
                )
            )
    return errors


def _history_method(row: ParsedRow, rules) -> list[CellError]:
    """A history row's scoring method: its inputs must read; an empty inherent cell is
    worked out from them, a filled one is kept as recorded (the rules may have changed
    since). ``row.values["__assessment__"]`` is what the writer keeps."""
    v = row.values
    if "scoring_method" not in v or "scoring_inputs" not in v:
        return []  # a cell that could not be read is already reported
    try:
        method = parse_method(v["scoring_method"])
    except MethodError as error:
        return [CellError(row.line, "Scoring method", error.message)]
    cells = {"inherent_likelihood": "Inherent likelihood", "inherent_impact": "Inherent impact"}
    if method is Method.MATRIX:
        missing = [h for k, h in cells.items() if k in v and v[k] is None]
        return [CellError(row.line, h, "Required; the cell is empty.") for h in missing]
    try:
        assessment = assess(method, v["scoring_inputs"], rules)
    except MethodError as error:
        return [CellError(row.line, "Scoring inputs", error.message)]
    given = (v.get("inherent_likelihood"), v.get("inherent_impact"))
    if given[0] is None:
        v["inherent_likelihood"] = assessment.likelihood
    if given[1] is None:
        v["inherent_impact"] = assessment.impact
    cell = (v["inherent_likelihood"], v["inherent_impact"])
    if cell != (assessment.likelihood, assessment.impact):
        assessment = replace(
            assessment,
            likelihood=cell[0],
            impact=cell[1],
            explanation=f"Imported as {cell[0]} × {cell[1]}; "
            f"the rules at import gave {assessment.likelihood} × {assessment.impact}. "
            + assessment.explanation,
        )
    v["__assessment__"] = assessment
    return []


def write_threat_scores(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    """Add each row to its threat's history, in file order, as the form's re-score does."""
    from app.domain.scoring import level_for, next_review_date
    from app.threats.risk import rescore_threat, review_intervals

    intervals = review_intervals()
    threats = _threats_with_history(sorted({r.values["threat_id"] for r in rows}))
    for row in rows:
        v = row.values
        residual = (v["residual_likelihood"], v["residual_impact"])
        inherent = (v["inherent_likelihood"], v["inherent_impact"])
        level = level_for(residual[0] * residual[1], lookups.matrix)
        rescore_threat(
            threats[v["threat_id"]],
            inherent=inherent,
            residual=residual,
            changed_on=v["changed_on"],
            author_id=user_id,
            note=v.get("note") or "Imported from CSV",
            next_review_on=next_review_date(v["changed_on"], level, intervals),
            assessment=v.get("__assessment__")
            or Assessment(Method.MATRIX, "", *inherent, None, "", ""),
        )
    db.session.flush()
    return len(rows)


# ---- threat state history (the third threats file) -------------------------------------
# One row per dated state: status, archival, treatment, acceptance expiry, next review, in
# force from "From". Imported after the threats (and their scores): each row is added in
# order as a dated change, as the edit form's "changed on" date does.

THREAT_STATE_COLUMNS = [
    *_threat_columns(ThreatStateChange),
    date_field("From", ThreatStateChange, "changed_on", required=True),
    Column(
        "Superseded on", "superseded_on", lambda: ThreatStateChange.superseded_on, None, kind="date"
    ),
    enum_field("What", ThreatStateChange, "kind", StateChangeKind, StateChangeKind.STATUS),
    enum_field("Status", ThreatStateChange, "status", ThreatStatus, ThreatStatus.IDENTIFIED),
    flag_field("Archived", ThreatStateChange, "archived", False),
    enum_field("Treatment", ThreatStateChange, "treatment", Treatment),
    date_field("Acceptance expires on", ThreatStateChange, "acceptance_expires_on"),
    date_field("Next review on", ThreatStateChange, "next_review_on"),
    Column("Note", "note", lambda: ThreatStateChange.note, c.text(500)),
]


_threat_state_list = _threat_history_list(ThreatStateChange)


def _latest_fact(chunk):
    """Per threat: identified on, and its latest score or state change."""
    latest_score = (
        select(func.max(ThreatScoreChange.changed_on))
        .where(ThreatScoreChange.threat_id == Threat.id)
        .scalar_subquery()
    )
    latest_state = (
        select(func.max(ThreatStateChange.changed_on))
        .where(ThreatStateChange.threat_id == Threat.id)
        .scalar_subquery()
    )
    for tid, identified, score_day, state_day in db.session.execute(
        select(Threat.id, Threat.identified_on, latest_score, latest_state).where(
            Threat.id.in_(chunk)
        )
    ):
        yield tid, identified, max((d for d in (score_day, state_day) if d), default=None)


def check_threat_states(rows: list[ParsedRow], lookups: Lookups) -> list[CellError]:
    """Each row dated in order after what the threat holds; an acceptance has its expiry."""
    errors = _dated_in_order(rows, "changed_on", "From", "change", _latest_fact)
    for row in rows:
        v = row.values
        if v.get("treatment") is Treatment.ACCEPT and not v.get("acceptance_expires_on"):
            errors.append(
                CellError(row.line, "Acceptance expires on", "An accepted risk has an expiry.")
            )
    return errors


def write_threat_states(rows: list[ParsedRow], lookups: Lookups, user_id) -> int:
    """Add each row to its threat's state history, in file order."""
    from app.threats.risk import STATE_FIELDS, record_state

    threats = _threats_with_history(sorted({r.values["threat_id"] for r in rows}))
    for row in rows:
        v = row.values
        record_state(
            threats[v["threat_id"]],
            v["changed_on"],
            v["kind"],
            user_id,
            note=v.get("note") or "Imported from CSV",
            **{name: v[name] for name in STATE_FIELDS},
        )
    db.session.flush()
    return len(rows)


def _threats_with_history(ids: list[int]) -> dict[int, Threat]:
    threats = {}
    for chunk in _chunks(ids):
        threats.update(
            {
                t.id: t
                for t in db.session.scalars(
                    select(Threat)
                    .where(Threat.id.in_(chunk))
                    .options(selectinload(Threat.score_changes), selectinload(Threat.state_changes))
                )
            }
        )
    return threats
