"""The history invariant, as a property: a change effective on day E moves no threat figure
as of a day before E.

Hypothesis builds a small register and a random sequence of dated operations (create,
re-score, close, archive, restore, accept with an expiry, review). After each operation
that the rules accept, every threat figure as of each checked day before its date (heat
maps, levels, top N, overdue reviews and their list, open critical, the quarter's risk
section of the PDF, the threat-linked OKR metrics, the quarter's top threats treated)
must equal what it was just before.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from app import figure_cache
from app.countermeasures.figures import top_threats_treated
from app.domain.quarters import Quarter
from app.extensions import db
from app.metrics import get_metric
from app.models.threats import (
    Threat,
    ThreatScoreChange,
    ThreatSearchTerm,
    ThreatStateChange,
    threat_systems,
    threat_tags,
)
from app.models.user import Role, User
from app.reports.quarter_report.risk import gather_risk
from app.threats import archive as threats_archive
from app.threats import figures, service, states
from app.validation import InputError

START = date(2020, 7, 1)
TODAY = date(2021, 1, 15)
SPAN = (TODAY - START).days
# Quarter ends and days in between (FY20-21: Q1 ends 2020-09-30, Q2 2020-12-31).
CHECK_DAYS = [
    date(2020, 7, 20),
    date(2020, 8, 31),
    date(2020, 9, 30),
    date(2020, 11, 10),
    date(2020, 12, 31),
    date(2021, 1, 10),
]
QUARTERS = [Quarter(2020, 1), Quarter(2020, 2)]
KINDS = ("create", "rescore", "close", "archive", "restore", "accept", "review")

pair = st.tuples(st.integers(1, 5), st.integers(1, 5))
operation = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(KINDS),
        "day": st.integers(0, SPAN),
        "target": st.integers(0, 9),
        "inherent": pair,
        "residual": pair,
        "days": st.integers(1, 120),
    }
)
register = st.lists(st.tuples(st.integers(0, 60), pair, pair), min_size=1, max_size=3)


def _clear_threats() -> None:
    db.session.rollback()
    for table in (ThreatStateChange, ThreatScoreChange, ThreatSearchTerm):
        db.session.execute(delete(table))
    db.session.execute(delete(threat_systems))
    db.session.execute(delete(threat_tags))
    db.session.execute(delete(Threat))
    db.session.commit()
    for instance in list(db.session.identity_map.values()):
        if not isinstance(instance, User):  # ids are reused by the next example
            db.session.expunge(instance)
    figure_cache.clear()


def _figures_as_of(day: date) -> tuple:
    """Every threat figure as of ``day``, as plain values."""
    return (
        figures.heatmap_as_of(day, "inherent"),
        figures.heatmap_as_of(day, "residual"),
        figures.level_counts(day),
        figures.top_threats(day, 5),
        figures.overdue_reviews(day),
        figures.open_critical_risks(day),
        [(g.owner_name, g.threats) for g in figures.reviews_due(day)],
    )


def _quarter_figures(quarter: Quarter) -> tuple:
    """The quarter's risk section of the PDF and the threat-linked OKR metrics."""
    section = gather_risk(quarter, quarter.last_day)
    names = ("open_critical_risks", "overdue_reviews", "top_threats_treated")
    metrics = tuple(get_metric(name).value(quarter) for name in names)
    return (section, metrics, top_threats_treated(quarter, 3))


def _snapshot(before: date) -> dict:
    figure_cache.clear()  # the figures are computed afresh, not remembered
    shot: dict = {day: _figures_as_of(day) for day in CHECK_DAYS if day < before}
    for quarter in QUARTERS:
        if quarter.last_day < before:
            shot[quarter] = _quarter_figures(quarter)
    return shot


def _scores(inherent, residual) -> dict:
    # The residual never exceeds the inherent score: take the smaller pair as residual.
    if residual[0] * residual[1] > inherent[0] * inherent[1]:
        inherent, residual = residual, inherent
    return {
        "inherent_likelihood": inherent[0],
        "inherent_impact": inherent[1],
        "residual_likelihood": residual[0],
        "residual_impact": residual[1],
    }


def _apply(op: dict, threats: list[int], users) -> date | None:
    """Apply one operation; returns its effective date, or None when the rules refuse it."""
    day = START + timedelta(days=op["day"])
    author = users[Role.SECURITY].id
    if op["kind"] == "create":
        threat = service.create_threat(
            author_id=author,
            title=f"Threat {len(threats) + 1}",
            identified_on=day,
            **_scores(op["inherent"], op["residual"]),
        )
        db.session.flush()
        threats.append(threat.id)
        return day
    threat = db.session.get(Threat, threats[op["target"] % len(threats)])
    kind = op["kind"]
    if kind == "rescore":
        scores = _scores(op["inherent"], op["residual"])
        service.update_threat(threat, author_id=author, **scores, scored_on=day)
    elif kind == "close":
        service.update_threat(
            threat, status="closed", treatment="avoid", status_changed_on=day, author_id=author
        )
    elif kind == "archive":
        threats_archive.archive_threat(threat, author, on=day)
    elif kind == "restore":
        threats_archive.restore_threat(threat, author, on=day)
    elif kind == "accept":
        service.update_threat(
            threat,
            treatment="accept",
            treatment_rationale="Within appetite.",
            acceptance_approver_id=users[Role.MANAGER].id,
            acceptance_expires_on=day + timedelta(days=op["days"]),
            status_changed_on=day,
            author_id=author,
        )
    elif kind == "review":
        states.review_threat(
            threat, author, on=day, next_review_on=day + timedelta(days=op["days"])
        )
    return day


@pytest.fixture
def pinned(app):
    previous = app.config.get("FRONTLINE_TODAY")
    app.config["FRONTLINE_TODAY"] = TODAY.isoformat()
    yield
    app.config["FRONTLINE_TODAY"] = previous


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(initial=register, operations=st.lists(operation, min_size=1, max_size=5))
def test_a_change_dated_e_moves_no_figure_before_e(pinned, users, initial, operations):
    _clear_threats()
    threats: list[int] = []
    for offset, inherent, residual in initial:
        op = {"kind": "create", "day": offset, "inherent": inherent, "residual": residual}
        _apply(op, threats, users)
    db.session.commit()
    for op in operations:
        before_day = START + timedelta(days=op["day"])
        before = _snapshot(before_day)
        try:
            day = _apply(op, threats, users)
            db.session.commit()
        except InputError:
            db.session.rollback()
            assert _snapshot(before_day) == before  # a refusal writes nothing
            continue
        assert _snapshot(day) == before, f"{op['kind']} dated {day} moved an earlier figure"
