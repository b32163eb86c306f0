"""The threats' score history in CSV: a second file, one row per assessment, oldest first."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select

from app import figure_cache
from app.extensions import db
from app.models import Threat, ThreatScoreChange
from app.models.threats import ThreatSearchTerm, ThreatStateChange
from app.models.user import Role
from app.threats import figures
from app.threats import service as threats_service
from app.transfer.service import ImportRefusedError, export_text, import_file

THREAT_HEADER = (
    "Title,Description,Category,Source,Feed,Owner email,Status,Treatment,Treatment rationale,"
    "Identified on,Next review on,Inherent likelihood,Inherent impact,Residual likelihood,"
    "Residual impact,Systems,Tags,Acceptance approver email,Acceptance expires on"
)
SCORE_HEADER = (
    "Threat,Assessed on,Inherent likelihood,Inherent impact,Residual likelihood,"
    "Residual impact,Note"
)
# The export adds what an import derives or ignores: ids, superseded on, scores, author.
EXPORTED_SCORE_HEADER = (
    "Threat id,Threat,Assessed on,Superseded on,Inherent likelihood,Inherent impact,"
    "Inherent score,Residual likelihood,Residual impact,Residual score,Author email,Note,"
    "Scoring method,Scoring inputs,Method score,Method rating"
)
DAYS = [date(2020, 9, 30), date(2020, 12, 31), date(2021, 1, 15)]


@pytest.fixture(autouse=True)
def pinned(app, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", "2021-01-15")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _register(n: int = 200) -> list[dict]:
    """n threats, each with 3 assessments (inherent above residual), in date order."""
    rng = random.Random(7)
    specs = []
    for i in range(n):
        day = date(2020, 6, 1) + timedelta(days=rng.randint(0, 120))
        assessments = []
        for _ in range(3):
            il, ii = rng.randint(2, 5), rng.randint(2, 5)
            assessments.append((day, (il, ii), (rng.randint(1, il), rng.randint(1, ii))))
            day += timedelta(days=rng.randint(0, 60))
        specs.append({"title": f"Threat {i:03}", "assessments": assessments})
    return specs


def _maps() -> list:
    figure_cache.clear()
    return [
        (figures.heatmap_as_of(d, "residual"), figures.heatmap_as_of(d, "inherent")) for d in DAYS
    ]


def _clear() -> None:
    for model in (ThreatStateChange, ThreatScoreChange, ThreatSearchTerm, Threat):
        db.session.execute(delete(model))
    db.session.commit()
    db.session.expunge_all()


def _scores(inherent, residual) -> dict:
    return {
        "inherent_likelihood": inherent[0],
        "inherent_impact": inherent[1],
        "residual_likelihood": residual[0],
        "residual_impact": residual[1],
    }


def test_200_threats_with_3_assessments_import_with_their_history(users):
    author = users[Role.SECURITY].id
    specs = _register()
    # Entered one by one, as the API does (the API calls these same functions).
    for spec in specs:
        (first, inherent, residual), *later = spec["assessments"]
        threat = threats_service.create_threat(
            author_id=author,
            title=spec["title"],
            identified_on=first,
            **_scores(inherent, residual),
        )
        for day, inherent, residual in later:
            threats_service.update_threat(
                threat, author_id=author, **_scores(inherent, residual), scored_on=day
            )
    db.session.commit()
    entered = _maps()
    exported = export_text("threat-scores")
    assert exported.splitlines()[0] == EXPORTED_SCORE_HEADER
    assessments = _count(ThreatScoreChange)  # an unchanged re-assessment records nothing
    assert assessments > 2.9 * len(specs)
    assert len(exported.splitlines()) == 1 + assessments
    _clear()

    threats = [THREAT_HEADER]
    for spec in specs:
        first_day = spec["assessments"][0][0]
        _day, (il, ii), (rl, ri) = spec["assessments"][-1]
        threats.append(f"{spec['title']},,,,,,Identified,,,{first_day},,{il},{ii},{rl},{ri},,,,")
    assert import_file("threats", ("\n".join(threats) + "\n").encode(), author) == len(specs)
    assert import_file("threat-scores", exported.encode(), author) == assessments
    db.session.commit()
    assert _maps() == entered


def test_a_history_row_out_of_order_is_refused_with_line_and_column(users, register_one):
    before = (_count(ThreatScoreChange), _count(ThreatStateChange))
    data = (
        SCORE_HEADER + "\n"
        "Edge DDoS,2020-09-01,4,4,3,3,\n"
        "Edge DDoS,2020-08-01,4,4,2,2,\n"
        "Edge DDoS,2021-02-01,4,4,2,2,\n"
        "Edge DDoS,2020-07-01,4,4,2,2,\n"
        "Edge DDoS,2020-10-01,2,2,3,3,\n"
    ).encode()
    with pytest.raises(ImportRefusedError) as refused:
        import_file("threat-scores", data, users[Role.SECURITY].id)
    db.session.rollback()
    errors = [(e.line, e.column) for e in refused.value.errors]
    assert errors == [
        (3, "Assessed on"),
        (4, "Assessed on"),
        (5, "Assessed on"),
        (6, "Residual impact"),
    ]
    assert "Out of order" in refused.value.errors[0].message
    assert "future" in refused.value.errors[1].message
    assert "identified" in refused.value.errors[2].message
    assert (_count(ThreatScoreChange), _count(ThreatStateChange)) == before


@pytest.fixture
def register_one(users):
    threats_service.create_threat(
        author_id=users[Role.SECURITY].id,
        title="Edge DDoS",
        identified_on=date(2020, 7, 15),
        **_scores((4, 4), (3, 3)),
    )
    db.session.commit()


STATE_HEADER = (
    "Threat id,Threat,From,Superseded on,What,Status,Archived,Treatment,"
    "Acceptance expires on,Next review on,Note"
)


def test_status_changes_come_in_dated_from_the_state_history_file(users, register_one):
    author = users[Role.SECURITY].id
    data = (
        STATE_HEADER + "\n"
        ",Edge DDoS,2020-09-01,,Reviewed,Assessed,no,,,2020-12-01,Looked again\n"
        ",Edge DDoS,2020-10-01,,,Closed,no,Avoid,,2020-12-01,Retired the service\n"
    ).encode()
    assert import_file("threat-states", data, author) == 2
    db.session.commit()
    threat = db.session.scalar(select(Threat))
    assert threat.status.value == "closed"
    figure_cache.clear()
    assert sum(figures.level_counts(date(2020, 9, 30)).values()) == 1
    assert sum(figures.level_counts(date(2020, 10, 1)).values()) == 0
    assert figures.overdue_reviews(date(2020, 9, 30)) == 0
    exported = export_text("threat-states").splitlines()
    assert exported[0] == STATE_HEADER
    assert exported[-1].startswith(
        f"{threat.id},Edge DDoS,2020-10-01,,Status or treatment changed,Closed,no"
    )


def test_a_state_row_out_of_order_or_in_the_future_is_refused(users, register_one):
    before = _count(ThreatStateChange)
    data = (
        STATE_HEADER + "\n"
        ",Edge DDoS,2020-10-01,,,Closed,no,Avoid,,,\n"
        ",Edge DDoS,2020-09-01,,,Assessed,no,,,,\n"
        ",Edge DDoS,2021-03-01,,,Assessed,no,,,,\n"
        ",Edge DDoS,2020-11-01,,,Monitoring,no,Accept,,,\n"
    ).encode()
    with pytest.raises(ImportRefusedError) as refused:
        import_file("threat-states", data, users[Role.SECURITY].id)
    db.session.rollback()
    assert [(e.line, e.column) for e in refused.value.errors] == [
        (3, "From"),
        (4, "From"),
        (5, "Acceptance expires on"),
    ]
    assert "line 2" in refused.value.errors[0].message
    assert _count(ThreatStateChange) == before
