from __future__ import annotations

from datetime import date, timedelta

from app.domain.scoring import Level
from app.extensions import db
from app.models.threats import ThreatStatus
from app.models.user import Role
from app.threats import archive, figures, service
from app.threats.as_of import top_threats_as_of


def _rescore(threat, on, residual, inherent=None):
    values = {"residual_likelihood": residual[0], "residual_impact": residual[1], "scored_on": on}
    if inherent:
        values.update(inherent_likelihood=inherent[0], inherent_impact=inherent[1])
    service.update_threat(threat, author_id=None, **values)
    db.session.commit()


def test_heatmap_moves_cells_with_history_and_ignores_later_threats(register):
    ddos = register.threat()  # residual (3, 3) from 2020-07-15
    _rescore(ddos, date(2020, 11, 2), (2, 3))
    register.threat(title="Later", identified_on=date(2020, 12, 1))
    q1_end = figures.heatmap_as_of(date(2020, 9, 30), "residual")
    assert q1_end[(3, 3)] == 1 and sum(q1_end.values()) == 1
    q2_end = figures.heatmap_as_of(date(2020, 12, 31), "residual")
    # DDoS moved down to (2, 3); the later threat sits in (3, 3).
    assert q2_end[(2, 3)] == 1 and q2_end[(3, 3)] == 1
    assert sum(q2_end.values()) == 2
    assert figures.heatmap_as_of(date(2020, 12, 31), "inherent")[(4, 4)] == 2
    assert len(q2_end) == 25
    # On the day of the change the new scores are in force.
    assert figures.heatmap_as_of(date(2020, 11, 2), "residual")[(2, 3)] == 1
    assert figures.heatmap_as_of(date(2020, 11, 1), "residual")[(3, 3)] == 1
    # Before its first assessment a threat is not on the map.
    assert sum(figures.heatmap_as_of(date(2020, 7, 14), "residual").values()) == 0


def test_archived_and_closed_threats_leave_the_figures_from_then_on(register):
    archived = register.threat(title="Archived later")
    archive.archive_threat(archived, on=date(2020, 11, 15))
    closed = register.threat(title="Closed", status="closed", treatment="avoid")
    db.session.commit()
    assert sum(figures.heatmap_as_of(date(2020, 10, 1), "residual").values()) == 1
    assert sum(figures.heatmap_as_of(date(2020, 12, 1), "residual").values()) == 0
    assert closed.status is ThreatStatus.CLOSED


def test_level_counts_and_open_critical_risks(register):
    register.threat(
        title="Critical",
        inherent_likelihood=5,
        inherent_impact=4,
        residual_likelihood=4,
        residual_impact=4,
    )
    low = register.threat(title="Low", residual_likelihood=1, residual_impact=2)
    _rescore(low, date(2020, 12, 1), (1, 1))
    counts = figures.level_counts(date(2020, 12, 31))
    assert counts == {Level.LOW: 1, Level.MEDIUM: 0, Level.HIGH: 0, Level.CRITICAL: 1}
    assert figures.open_critical_risks(date(2020, 12, 31)) == 1
    assert figures.open_critical_risks(date(2020, 7, 1)) == 0


def test_overdue_reviews_grouped_by_owner(register, users):
    register.threat(title="A late", next_review_on=date(2021, 1, 1))
    register.threat(title="B late", next_review_on=date(2020, 12, 1), owner_id=users[Role.ADMIN].id)
    register.threat(title="Due today", next_review_on=date(2021, 1, 15))
    register.threat(title="Nobody's", next_review_on=date(2020, 12, 1), owner_id=None)
    register.threat(title="Closed", next_review_on=date(2020, 8, 1), status="closed")
    assert figures.overdue_reviews(date(2021, 1, 15)) == 3
    groups = figures.reviews_due(date(2021, 1, 15))
    assert [(g.owner_name, [t.title for t in g.threats]) for g in groups] == [
        ("Test admin", ["B late"]),
        ("Test security", ["A late"]),
        ("No owner", ["Nobody's"]),
    ]


def test_top_threats_match_the_shared_ranking(register):
    a = register.threat(title="A", residual_likelihood=4, residual_impact=4)
    register.threat(
        title="B", residual_likelihood=4, residual_impact=3, identified_on=date(2020, 7, 1)
    )
    register.threat(
        title="C", residual_likelihood=3, residual_impact=4, identified_on=date(2020, 7, 2)
    )
    _rescore(a, date(2020, 10, 1), (2, 2))
    for day in (date(2020, 7, 20), date(2020, 10, 1), date(2021, 1, 1)):
        mine = [t.title for t in figures.top_threats(day, 2)]
        assert mine == [t.title for t in top_threats_as_of(day, 2)]
    assert [t.title for t in figures.top_threats(date(2020, 7, 20), 3)] == ["A", "B", "C"]
    # Ties on residual (12) break on inherent (equal) then age: B is older than C.
    assert [t.title for t in figures.top_threats(date(2020, 10, 1), 2)] == ["B", "C"]


def _cell_totals(rows) -> dict[tuple[int, int, int, int], int]:
    totals: dict[tuple[int, int, int, int], int] = {}
    for il, ii, rl, ri, n in rows:
        totals[(il, ii, rl, ri)] = totals.get((il, ii, rl, ri), 0) + n
    # The parts of a split count may cancel out in a cell: an empty cell is no cell.
    return {cell: n for cell, n in totals.items() if n}


def _month_ends(first: date, last: date) -> list[date]:
    days = []
    year, month = first.year, first.month
    while date(year, month, 1) <= last:
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
        days.append(min(date(year, month, 1) - timedelta(days=1), last))
    return days


def test_heat_maps_counted_in_parts_equal_the_count_from_history_on_the_demo(demo):
    from sqlalchemy import func, select

    from app.models.threats import ThreatScoreChange, ThreatStateChange

    first = min(
        db.session.scalar(select(func.min(column)))
        for column in (ThreatScoreChange.changed_on, ThreatStateChange.changed_on)
    )
    ends = _month_ends(first, date(2021, 1, 15))
    days = [first - timedelta(days=1), first, *ends, *(end - timedelta(days=15) for end in ends)]
    assert len(ends) == 9
    for day in days:
        expected = _cell_totals(figures._cells_from_history(day))
        assert _cell_totals(figures._cells_split(day)) == expected, day
    assert sum(_cell_totals(figures._cells_from_history(date(2020, 12, 31))).values()) > 10


def test_heat_maps_counted_in_parts_follow_changes_after_the_date(register):
    ddos = register.threat()  # inherent (4, 4), residual (3, 3) from 2020-07-15
    _rescore(ddos, date(2020, 11, 2), (2, 3))
    archived = register.threat(title="Archived later", residual_likelihood=1)
    archive.archive_threat(archived, on=date(2020, 11, 15))
    closed_later = register.threat(title="Closed later", residual_impact=2)
    service.update_threat(
        closed_later, author_id=None, status="closed", treatment="avoid", scored_on=None
    )
    register.threat(title="Closed", status="closed", treatment="avoid")
    register.threat(title="Later", identified_on=date(2020, 12, 1), inherent_likelihood=5)
    register.threat(title="Unchanged", residual_likelihood=4, residual_impact=1)
    db.session.commit()
    days = [date(2020, 7, 14), date(2020, 7, 15), date(2020, 9, 30), date(2020, 11, 1)]
    days += [date(2020, 11, 2), date(2020, 11, 15), date(2020, 12, 1), date(2020, 12, 31)]
    days += [date(2021, 1, 15)]
    for day in days:
        expected = _cell_totals(figures._cells_from_history(day))
        assert _cell_totals(figures._cells_split(day)) == expected, day
    before = _cell_totals(figures._cells_from_history(date(2020, 11, 1)))
    assert before == {(4, 4, 3, 3): 1, (4, 4, 1, 3): 1, (4, 4, 3, 2): 1, (4, 4, 4, 1): 1}
    # Closed today, so still open at the quarter end; the later threat is counted there.
    assert figures.both_cells_on(date(2020, 12, 31))["residual"] == (
        (2, 3, 1),
        (3, 2, 1),
        (3, 3, 1),
        (4, 1, 1),
    )
