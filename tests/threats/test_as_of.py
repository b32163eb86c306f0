"""The register as of a date: the fast paths (validity intervals, indexes, the per-process
figure cache) give what replaying each threat's history by hand gives."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app import figure_cache
from app.domain.scoring import level_for, rank_top_threats
from app.extensions import db
from app.models.threats import Threat, ThreatScoreChange, ThreatStatus
from app.threats import archive, figures
from app.threats import service as threats_service
from app.threats.as_of import ScoredThreat
from app.threats.as_of import top_threats_as_of as risk_top_threats
from app.threats.risk import rescore_threat, resync_superseded, risk_matrix
from bench.harness import count_queries

DAYS = [
    date(2020, 7, 1),
    date(2020, 7, 14),
    date(2020, 7, 15),  # first assessments
    date(2020, 8, 1),
    date(2020, 9, 1),  # two changes that day
    date(2020, 9, 30),
    date(2020, 10, 1),  # a change and an archiving that day
    date(2020, 10, 2),
    date(2020, 11, 15),
    date(2021, 1, 15),
]


def _rescore(threat, on, residual, inherent=None):
    rescore_threat(
        threat,
        inherent=inherent or (threat.inherent_likelihood, threat.inherent_impact),
        residual=residual,
        changed_on=on,
        author_id=None,
    )
    db.session.commit()


@pytest.fixture
def history(register):
    """Hand-made histories: same-day changes, a change on an as-of date, archived and
    closed threats, a threat identified later, equal scores to test the tie rules."""
    a = register.threat(title="A")  # (3, 3) from 2020-07-15
    _rescore(a, date(2020, 9, 1), (4, 4))
    _rescore(a, date(2020, 9, 1), (2, 2))  # same day: the later entry wins
    b = register.threat(title="B", residual_likelihood=4, residual_impact=4)
    _rescore(b, date(2020, 10, 1), (1, 2))  # a change on an as-of date
    c = register.threat(title="C", identified_on=date(2020, 7, 1), residual_likelihood=4)
    archive.archive_threat(c, on=date(2020, 10, 1))  # off the register from that day
    register.threat(title="D", status="closed", treatment="avoid")
    e = register.threat(title="E", identified_on=date(2020, 8, 1), residual_impact=4)
    _rescore(e, date(2020, 11, 15), (3, 4), inherent=(5, 5))
    register.threat(title="F", identified_on=date(2020, 7, 1), residual_impact=4)  # ties C
    register.threat(title="G", identified_on=date(2020, 12, 1), residual_likelihood=5)
    db.session.commit()


def _by_hand(as_of: date, include_closed: bool = False) -> list[ScoredThreat]:
    """Replay every history in Python: the last change on or before the date, the latest
    entry of a day winning; threats identified by then whose state then was neither
    archived nor closed."""
    found = []
    for threat in db.session.scalars(select(Threat)):
        if threat.identified_on > as_of:
            continue
        states = [s for s in threat.state_changes if s.changed_on <= as_of]
        if not states:
            continue
        state = max(states, key=lambda s: (s.changed_on, s.id))
        if state.archived:
            continue
        if state.status is ThreatStatus.CLOSED and not include_closed:
            continue
        eligible = [c for c in threat.score_changes if c.changed_on <= as_of]
        if not eligible:
            continue
        c = max(eligible, key=lambda c: (c.changed_on, c.id))
        found.append(
            ScoredThreat(
                threat.id,
                threat.title,
                c.inherent_likelihood,
                c.inherent_impact,
                c.residual_likelihood,
                c.residual_impact,
                c.inherent_score,
                c.residual_score,
                threat.identified_on,
            )
        )
    return found


def _cells_by_hand(as_of: date, kind: str) -> dict[tuple[int, int], int]:
    counts = {(li, im): 0 for li in range(1, 6) for im in range(1, 6)}
    for t in _by_hand(as_of):
        pair = (
            (t.inherent_likelihood, t.inherent_impact)
            if kind == "inherent"
            else (t.residual_likelihood, t.residual_impact)
        )
        counts[pair] += 1
    return counts


@pytest.mark.parametrize("as_of", DAYS)
def test_heat_maps_and_levels_equal_the_replayed_history(history, as_of):
    for kind in ("inherent", "residual"):
        expected = _cells_by_hand(as_of, kind)
        assert figures.heatmap_as_of(as_of, kind) == expected
        for (li, im), n in expected.items():
            ids = db.session.scalars(figures.cell_threat_ids(as_of, kind, li, im)).all()
            assert len(ids) == n
    matrix = risk_matrix()
    levels = dict.fromkeys(matrix.levels, 0)
    for t in _by_hand(as_of):
        levels[level_for(t.residual_score, matrix)] += 1
    assert figures.level_counts(as_of) == levels


@pytest.mark.parametrize("as_of", DAYS)
def test_rankings_equal_the_replayed_history(history, as_of):
    expected = rank_top_threats(_by_hand(as_of))
    for n in (1, 3, 10):
        assert risk_top_threats(as_of, n) == expected[:n]
        assert figures.top_threats(as_of, n) == expected[:n]


@pytest.mark.parametrize("as_of", DAYS)
def test_the_cell_link_lists_the_cells_threats(history, as_of):
    for t in _by_hand(as_of):
        ids = db.session.scalars(
            figures.cell_threat_ids(as_of, "residual", t.residual_likelihood, t.residual_impact)
        ).all()
        assert t.id in ids


def test_a_cell_link_page_lists_the_threats_then_in_the_cell(history, client_as):
    from app.models.user import Role

    client = client_as(Role.VIEWER)
    html = client.get("/threats?kind=residual&l=4&i=4&as_of=2020-09-30").get_data(as_text=True)
    # B was (4, 4) until 2020-10-01; A passed through (4, 4) only within 2020-09-01.
    assert ">B</a>" in html and ">A</a>" not in html
    html = client.get("/threats?kind=residual&l=4&i=4&as_of=2020-10-01").get_data(as_text=True)
    assert ">B</a>" not in html


def test_remembered_figures_follow_every_change_to_the_register(app, history):
    day = date(2020, 9, 30)
    before = figures.heatmap_as_of(day, "residual")
    with count_queries(app) as counter:
        assert figures.heatmap_as_of(day, "residual") == before
    assert counter["n"] == 2  # the matrix setting and the fingerprint, no counting
    threat = db.session.scalar(select(Threat).where(Threat.title == "F"))
    # A threat closed today: the figures of 2020-09-30 stay as they were.
    threats_service.update_threat(threat, status="closed", treatment="avoid", author_id=None)
    db.session.commit()
    assert figures.heatmap_as_of(day, "residual") == before == _cells_by_hand(day, "residual")
    # Closed as a correction dated before that day: the remembered figure follows.
    other = db.session.scalar(select(Threat).where(Threat.title == "A"))
    threats_service.update_threat(
        other, status="closed", treatment="avoid", status_changed_on="2020-09-15", author_id=None
    )
    db.session.commit()
    after = figures.heatmap_as_of(day, "residual")
    assert after != before and after == _cells_by_hand(day, "residual")
    # A new, backdated threat and a deletion are seen too.
    g = db.session.scalar(select(Threat).where(Threat.title == "G"))
    db.session.delete(g)
    db.session.commit()
    assert figures.top_threats(date(2021, 1, 15), 10) == rank_top_threats(
        _by_hand(date(2021, 1, 15))
    )


def test_tie_rules_on_identical_scores(history):
    # C (archived 2020-10-01) and F share scores and the identification day: id decides.
    ranked = risk_top_threats(date(2020, 9, 30), 10)
    titles = [t.title for t in ranked]
    assert titles.index("C") < titles.index("F")
    assert "C" not in [t.title for t in risk_top_threats(date(2020, 10, 1), 10)]


# ---- the validity intervals every writer keeps -----------------------------------------


def _interval_errors() -> list[str]:
    """Rows whose superseded_on is not the date of the next change (by date, then id)."""
    rows = db.session.execute(
        select(
            ThreatScoreChange.id,
            ThreatScoreChange.threat_id,
            ThreatScoreChange.changed_on,
            ThreatScoreChange.superseded_on,
        ).order_by(ThreatScoreChange.threat_id, ThreatScoreChange.changed_on, ThreatScoreChange.id)
    ).all()
    errors = []
    for i, (change_id, threat_id, _changed, superseded) in enumerate(rows):
        following = rows[i + 1] if i + 1 < len(rows) else None
        expected = following[2] if following and following[1] == threat_id else None
        if superseded != expected:
            errors.append(f"change {change_id}: {superseded} instead of {expected}")
    return errors


def test_service_changes_keep_the_intervals(history):
    assert _interval_errors() == []
    in_force = db.session.scalar(
        select(func.count())
        .select_from(ThreatScoreChange)
        .where(ThreatScoreChange.superseded_on.is_(None))
    )
    assert in_force == db.session.scalar(select(func.count(Threat.id)))


def test_a_change_recorded_out_of_order_keeps_the_intervals(history):
    e = db.session.scalar(select(Threat).where(Threat.title == "E"))
    _rescore(e, date(2020, 9, 1), (2, 4))  # between its two assessments
    assert _interval_errors() == []
    assert [t.residual_score for t in _by_hand(date(2020, 9, 1)) if t.title == "E"] == [8]
    expected = rank_top_threats(_by_hand(date(2020, 10, 15)))
    assert risk_top_threats(date(2020, 10, 15), 10) == expected


def test_resync_repairs_rows_written_in_bulk(history):
    a = db.session.scalar(select(Threat).where(Threat.title == "A"))
    db.session.execute(
        ThreatScoreChange.__table__.update()
        .where(ThreatScoreChange.threat_id == a.id)
        .values(superseded_on=None)
    )
    assert _interval_errors() != []
    resync_superseded([a.id])
    assert _interval_errors() == []
    resync_superseded()
    assert _interval_errors() == []


def test_countermeasure_deployment_keeps_the_intervals(history, users):
    from app.countermeasures import service as countermeasures_service
    from app.countermeasures import status as countermeasures_status
    from app.models.user import Role

    b = db.session.scalar(select(Threat).where(Threat.title == "B"))
    security = users[Role.SECURITY].id
    cm = countermeasures_service.create_countermeasure(
        title="Rate limits", threat_ids=[b.id], planned_on=date(2020, 12, 1), user_id=security
    )
    db.session.commit()
    countermeasures_status.deploy_countermeasure(
        cm, deployed_on=date(2021, 1, 10), residuals={b.id: (1, 1)}, user_id=security
    )
    db.session.commit()
    assert _interval_errors() == []
    assert figures.heatmap_as_of(date(2021, 1, 10), "residual")[(1, 1)] == 1


def test_synthetic_seed_keeps_the_intervals(app):
    from app.seed.synthetic import fill

    fill(seed=3, users=3, threats=60, countermeasures=40)
    db.session.commit()
    assert db.session.scalar(
        select(func.count()).where(ThreatScoreChange.countermeasure_id.is_not(None))
    )
    assert _interval_errors() == []
    figure_cache.clear()
    for day in (date(2020, 3, 31), date(2020, 9, 30), date(2021, 1, 15)):
        expected = rank_top_threats(_by_hand(day))
        assert risk_top_threats(day, 15) == expected[:15]
        assert figures.heatmap_as_of(day, "residual") == _cells_by_hand(day, "residual")


def test_csv_import_starts_consistent_histories(history):
    from app.models.threats import ThreatCategory
    from app.transfer.service import import_file

    db.session.add(ThreatCategory(name="Malware", active=True))
    db.session.commit()
    data = (
        b"Title,Description,Category,Source,Feed,Owner email,Status,Treatment,"
        b"Treatment rationale,Identified on,Next review on,Inherent likelihood,Inherent impact,"
        b"Residual likelihood,Residual impact,Systems,Tags,Acceptance approver email,"
        b"Acceptance expires on\n"
        b"Imported one,,Malware,Internal finding,,,Identified,,,2020-08-01,,3,4,2,2,,,,\n"
        b"Imported two,,Malware,Internal finding,,,Identified,,,2020-10-01,,5,5,4,4,,,,\n"
    )
    assert import_file("threats", data, None) == 2
    db.session.commit()
    assert _interval_errors() == []
    for day in (date(2020, 9, 30), date(2020, 10, 1)):
        assert figures.heatmap_as_of(day, "residual") == _cells_by_hand(day, "residual")
        assert risk_top_threats(day, 10) == rank_top_threats(_by_hand(day))
