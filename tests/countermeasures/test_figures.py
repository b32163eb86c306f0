"""The quarter figures the quarter page, OKR metrics and the PDF share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.countermeasures import figures, service
from app.countermeasures import status as countermeasures_status
from app.domain.quarters import parse_quarter
from app.extensions import db
from app.models.countermeasures import CountermeasureStatus
from app.models.setting import set_setting
from app.models.threats import ThreatScoreChange
from app.threats.risk import rescore_threat

Q1, Q2, Q3 = (parse_quarter(f"FY20-21 Q{n}") for n in (1, 2, 3))


@dataclass(frozen=True)
class ScoreEvent:
    """One entry of a threat's score history, as the replay below reads it."""

    id: int
    threat_id: int
    changed_on: date
    residual_score: int
    countermeasure_id: int | None = None


def residual_reductions(events) -> dict[int, int]:
    """The credit of each countermeasure replayed over whole histories in Python: the
    oracle the query in ``figures.residual_reductions_for`` must agree with."""
    by_threat: dict[int, list[ScoreEvent]] = {}
    for event in events:
        by_threat.setdefault(event.threat_id, []).append(event)
    credit: dict[int, int] = {}
    for history in by_threat.values():
        history.sort(key=lambda e: (e.changed_on, e.id))
        if history[0].countermeasure_id is not None:
            credit.setdefault(history[0].countermeasure_id, 0)
        for previous, event in zip(history, history[1:], strict=False):
            if event.countermeasure_id is not None:
                credit[event.countermeasure_id] = credit.get(event.countermeasure_id, 0) + (
                    previous.residual_score - event.residual_score
                )
    return credit


def test_the_replay_credits_by_date_then_entry_in_any_order():
    events = [
        ScoreEvent(1, 10, date(2020, 8, 1), 20),
        ScoreEvent(2, 10, date(2020, 10, 26), 16, countermeasure_id=7),
        ScoreEvent(3, 11, date(2020, 8, 1), 12),
        ScoreEvent(4, 11, date(2020, 9, 1), 15),
        ScoreEvent(5, 11, date(2020, 10, 26), 9, countermeasure_id=7),
        ScoreEvent(6, 10, date(2020, 11, 5), 12, countermeasure_id=8),
        ScoreEvent(7, 12, date(2020, 10, 1), 8),
        ScoreEvent(8, 12, date(2020, 10, 1), 6, countermeasure_id=1),
        ScoreEvent(9, 12, date(2020, 10, 2), 9, countermeasure_id=2),
        ScoreEvent(10, 13, date(2020, 10, 2), 9, countermeasure_id=3),  # nothing before it
    ]
    expected = {7: 4 + 6, 8: 4, 1: 2, 2: -3, 3: 0}
    assert residual_reductions(events) == expected
    assert residual_reductions(reversed(events)) == expected


def deployed(title, on, threats=(), target=Q2, retired_on=None):
    cm = service.create_countermeasure(
        title=title,
        threat_ids=[t.id for t in threats],
        target_quarter=target,
        planned_on=date(2020, 1, 1),
        user_id=None,
    )
    if on is not None:
        countermeasures_status.deploy_countermeasure(cm, deployed_on=on, user_id=None)
    if retired_on is not None:
        countermeasures_status.change_status(
            cm, CountermeasureStatus.RETIRED, changed_on=retired_on, user_id=None
        )
    db.session.flush()
    return cm


def test_deployed_on_the_last_day_counts_in_that_quarter_and_to_date():
    deployed("Last day of Q2", date(2020, 12, 31))
    deployed("First day of Q3", date(2021, 1, 1), target=Q3)
    deployed("Previous fiscal year", date(2020, 6, 30), target=None)
    assert figures.countermeasures_deployed(Q2) == 1
    assert figures.countermeasures_deployed(Q3) == 1
    assert figures.countermeasures_deployed(Q1) == 0
    assert figures.countermeasures_deployed_to_date(Q2) == 1
    assert figures.countermeasures_deployed_to_date(Q3) == 2
    assert [c.title for c in figures.deployed_in_quarter(Q2)] == ["Last day of Q2"]


def test_a_retired_countermeasure_counts_in_the_quarter_it_was_deployed():
    cm = deployed("Old IDS", date(2020, 11, 2), retired_on=date(2021, 1, 10))
    assert cm.status == CountermeasureStatus.RETIRED
    assert figures.countermeasures_deployed(Q2) == 1
    assert figures.countermeasures_deployed(Q3) == 0
    assert figures.countermeasures_deployed_to_date(Q3) == 1
    # Retired without ever being deployed: counts nowhere, and slipped from its quarter.
    dropped = deployed("Dropped", None, retired_on=date(2020, 12, 1))
    assert figures.countermeasures_deployed_to_date(Q3) == 1
    assert dropped in figures.slipped_countermeasures(Q2)


def test_one_countermeasure_treating_two_top_threats(make_threat):
    ddos = make_threat("DDoS", (5, 4))
    disinfo = make_threat("Disinformation", (4, 4))
    make_threat("Insider", (3, 3))
    both = deployed("Shared runbook", date(2020, 10, 20), threats=[ddos, disinfo])
    rows = figures.top_threats_treated(Q2, 2)
    assert [(r.threat.title, r.treated) for r in rows] == [("DDoS", True), ("Disinformation", True)]
    assert [c.id for c in rows[0].countermeasures] == [both.id]
    assert [c.id for c in rows[1].countermeasures] == [both.id]
    assert figures.countermeasures_deployed(Q2) == 1  # one countermeasure, counted once


def test_top_threats_are_taken_as_of_the_quarter_start_when_scores_change_inside(make_threat):
    ddos = make_threat("DDoS", (5, 4))  # 20 on 1 October
    insider = make_threat("Insider", (2, 2))  # 4 on 1 October
    disinfo = make_threat("Disinformation", (4, 4))  # 16 on 1 October
    # Inside Q2 the insider threat jumps to the top and DDoS drops: Q2's ranking keeps
    # the register as it stood on its first day.
    rescore_threat(
        insider, inherent=(5, 5), residual=(5, 5), changed_on=date(2020, 10, 2), author_id=None
    )
    rescore_threat(
        ddos, inherent=(5, 5), residual=(1, 2), changed_on=date(2020, 11, 1), author_id=None
    )
    deployed("Insider programme", date(2020, 10, 15), threats=[insider])
    deployed("Disinfo monitoring", date(2020, 12, 1), threats=[disinfo])
    db.session.flush()
    rows = figures.top_threats_treated(Q2, 2)
    assert [(r.threat.title, r.threat.residual_score, r.treated) for r in rows] == [
        ("DDoS", 20, False),
        ("Disinformation", 16, True),
    ]
    # Q3 starts with the new scores.
    assert [r.threat.title for r in figures.top_threats_treated(Q3, 2)] == [
        "Insider",
        "Disinformation",
    ]


def test_slipped_countermeasures():
    late = deployed("Late", date(2021, 1, 5))
    on_time = deployed("On time", date(2020, 12, 31))
    waiting = deployed("Waiting", None)
    slipped = figures.slipped_countermeasures(Q2)
    assert late in slipped and waiting in slipped and on_time not in slipped


def test_residual_reduction_credited_on_deployment(make_threat, users):
    ddos = make_threat("DDoS", (5, 4))
    disinfo = make_threat("Disinformation", (4, 4))
    cm = service.create_countermeasure(
        title="Scrubbing", threat_ids=[ddos.id, disinfo.id], planned_on=date(2020, 9, 1)
    )
    db.session.flush()
    countermeasures_status.deploy_countermeasure(
        cm,
        deployed_on=date(2020, 10, 26),
        residuals={ddos.id: (3, 4), disinfo.id: (4, 4)},  # disinfo unchanged
        user_id=users[next(iter(users))].id,
    )
    db.session.flush()
    assert ddos.residual_score == 12 and ddos.inherent_score == 25
    assert disinfo.residual_score == 16 and len(disinfo.score_changes) == 1
    assert ddos.score_changes[-1].countermeasure_id == cm.id
    assert ddos.score_changes[-1].changed_on == date(2020, 10, 26)
    assert figures.residual_reduction(cm) == 20 - 12
    assert figures.residual_reductions_for([cm.id]) == {cm.id: 8}


def test_reductions_counted_in_the_database_equal_the_whole_history_replay(make_threat):
    """Same-day changes order by entry, a rise credits a negative figure and a credited
    change with nothing before it credits nothing, as in the domain's replay."""
    day = date(2020, 10, 1)
    phishing = make_threat("Phishing", (4, 4), scored_on=day)
    fraud = make_threat("Fraud", (3, 3))
    one, two, three = (deployed(title, None) for title in ("One", "Two", "Three"))
    for cm, residual, on in ((one, (3, 2), day), (two, (3, 3), day), (one, (2, 2), Q3.first_day)):
        rescore_threat(
            phishing,
            inherent=(5, 5),
            residual=residual,
            changed_on=on,
            author_id=None,
            countermeasure_id=cm.id,
        )
    fraud.score_changes[0].countermeasure_id = three.id
    db.session.flush()
    history = [
        ScoreEvent(c.id, c.threat_id, c.changed_on, c.residual_score, c.countermeasure_id)
        for c in db.session.scalars(select(ThreatScoreChange))
    ]
    ids = [one.id, two.id, three.id]
    assert figures.residual_reductions_for(ids) == {
        one.id: (16 - 6) + (9 - 4),
        two.id: 6 - 9,
        three.id: 0,
    }
    assert figures.residual_reductions_for(ids) == residual_reductions(history)


def test_targets_default_and_setting():
    assert (figures.quarter_target(), figures.yearly_goal()) == (2, 6)
    set_setting(figures.QUARTER_TARGET_KEY, 3)
    set_setting(figures.YEARLY_GOAL_KEY, 10)
    assert (figures.quarter_target(), figures.yearly_goal()) == (3, 10)


def test_top_threats_follow_register_changes_between_calls(make_threat):
    ddos = make_threat("DDoS", (5, 4))
    insider = make_threat("Insider", (2, 2))
    db.session.commit()
    assert [r.threat.title for r in figures.top_threats_treated(Q2, 1)] == ["DDoS"]
    # A backdated assessment raises the insider threat before the quarter began.
    rescore_threat(
        insider, inherent=(5, 5), residual=(5, 5), changed_on=date(2020, 9, 1), author_id=None
    )
    db.session.commit()
    assert [r.threat.title for r in figures.top_threats_treated(Q2, 1)] == ["Insider"]
    # Closing it before the quarter began takes it out of the ranking.
    from app.threats.service import update_threat

    update_threat(insider, status="closed", status_changed_on=date(2020, 9, 15), author_id=None)
    db.session.commit()
    assert [r.threat.title for r in figures.top_threats_treated(Q2, 1)] == ["DDoS"]
    assert ddos
