from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models.threats import Threat, ThreatScoreChange, ThreatSearchTerm, Treatment
from app.seed import load_demo
from app.threats import figures
from app.threats.as_of import top_threats_as_of


def test_demo_register_tells_the_decks_story():
    context = load_demo()
    threats = context["threats"]
    assert 28 <= len(threats) <= 35
    assert "Coordinated disinformation campaign on high-traffic articles" in threats
    assert "Loss of the single EU data center" in threats
    q1 = [t.title for t in top_threats_as_of(date(2020, 7, 1), 2)]
    q2 = [t.title for t in top_threats_as_of(date(2020, 10, 1), 2)]
    assert q1 == ["Loss of the single EU data center", "DDoS on edge caching (ATS/Varnish)"]
    assert q1 != q2 and len(set(q2)) == 2
    assert figures.overdue_reviews(date(2021, 1, 15)) >= 3
    accepted = [t for t in threats.values() if t.treatment is Treatment.ACCEPT]
    assert any(t.acceptance_expires_on > date(2021, 1, 15) for t in accepted)
    assert all(t.treatment_rationale and t.acceptance_approver_id for t in accepted)
    assert sum(1 for t in threats.values() if t.archived_at) == 2
    rescored = db.session.scalar(
        select(func.count(func.distinct(ThreatScoreChange.threat_id))).where(
            ThreatScoreChange.superseded_on.is_not(None)
        )
    )
    assert rescored >= 5
    # Every system the register names is linked, and the heat map of Q2 is not empty.
    assert len(context["systems"]) >= 11
    assert sum(figures.heatmap_as_of(date(2020, 12, 31), "residual").values()) > 20


def test_seed_synthetic_threats(runner):
    result = runner.invoke(args=["seed-synthetic", "--users", "5", "--threats", "300"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Threat)) == 300
    changes = db.session.scalar(select(func.count()).select_from(ThreatScoreChange))
    assert 300 <= changes <= 600
    assert db.session.scalar(select(func.count()).select_from(ThreatSearchTerm)) > 300
    # Today's map (read from the current scores) equals the one replayed from the history.
    c = ThreatScoreChange
    replayed = figures.scored_on_query(
        date(2021, 1, 15), c.residual_likelihood, c.residual_impact, func.count()
    ).group_by(c.residual_likelihood, c.residual_impact)
    history = {(li, im): n for li, im, n in db.session.execute(replayed)}
    today = figures.heatmap_as_of(date(2021, 1, 15), "residual")
    assert {cell: n for cell, n in today.items() if n} == history
    in_force = db.session.scalar(
        select(func.count())
        .select_from(ThreatScoreChange)
        .where(ThreatScoreChange.superseded_on.is_(None))
    )
    assert in_force == 300
