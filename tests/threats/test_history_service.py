"""A threat's status, archival, treatment and reviews are dated facts; recording the past."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.domain.scoring import (
    DEFAULT_MATRIX,
    DEFAULT_REVIEW_INTERVALS,
    level_for,
    next_review_date,
)
from app.extensions import db
from app.models.okrs import Objective
from app.models.reports import ReportPublication
from app.models.threats import StateChangeKind, ThreatStateChange, ThreatStatus
from app.models.user import Role
from app.threats import archive as threats_archive
from app.threats import figures, service, states
from app.threats.risk import state_on
from app.validation import InputError

TODAY = date(2021, 1, 15)


def _count_states() -> int:
    return db.session.scalar(select(func.count()).select_from(ThreatStateChange))


def test_a_new_threat_starts_its_state_history_on_its_identified_day(register):
    threat = register.threat(identified_on=date(2020, 8, 1))
    [first] = threat.state_changes
    assert (first.kind, first.changed_on, first.superseded_on) == (
        StateChangeKind.CREATED,
        date(2020, 8, 1),
        None,
    )
    assert first.status is ThreatStatus.IDENTIFIED and not first.archived
    assert first.next_review_on == threat.next_review_on


def test_a_backdated_close_ends_the_open_state_on_that_day(register, users):
    threat = register.threat(identified_on=date(2020, 8, 1))
    service.update_threat(
        threat,
        status="closed",
        treatment="avoid",
        status_changed_on="2020-10-01",
        author_id=users[Role.SECURITY].id,
    )
    db.session.commit()
    assert threat.status is ThreatStatus.CLOSED
    assert state_on(threat, date(2020, 9, 30)).status is ThreatStatus.IDENTIFIED
    assert state_on(threat, date(2020, 10, 1)).status is ThreatStatus.CLOSED
    assert figures.level_counts(date(2020, 9, 30))
    assert sum(figures.level_counts(date(2020, 9, 30)).values()) == 1
    assert sum(figures.level_counts(date(2020, 10, 1)).values()) == 0


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2021-01-16", "cannot be dated in the future"),
        ("2020-08-31", "before the threat's last recorded change (2020-09-01)"),
    ],
)
def test_a_status_date_in_the_future_or_before_earlier_facts_is_refused(
    register, users, day, message
):
    threat = register.threat(identified_on=date(2020, 8, 1))
    service.update_threat(
        threat, residual_likelihood=2, scored_on="2020-09-01", author_id=users[Role.SECURITY].id
    )
    db.session.commit()
    before = (_count_states(), threat.status, threat.version)
    with pytest.raises(InputError) as refused:
        service.update_threat(
            threat, status="assessed", status_changed_on=day, author_id=users[Role.SECURITY].id
        )
    assert message in refused.value.errors["status_changed_on"]
    db.session.rollback()
    assert (_count_states(), threat.status, threat.version) == before


def test_archiving_and_restoring_are_dated(register, users):
    threat = register.threat(identified_on=date(2020, 7, 15))
    threats_archive.archive_threat(threat, users[Role.SECURITY].id, on=date(2020, 10, 1))
    threats_archive.restore_threat(threat, users[Role.SECURITY].id, on=date(2020, 12, 1))
    db.session.commit()
    assert threat.archived_at is None
    on_register = [sum(figures.level_counts(d).values()) for d in (date(2020, 9, 30),)]
    on_register += [sum(figures.level_counts(d).values()) for d in (date(2020, 10, 1),)]
    on_register += [sum(figures.level_counts(d).values()) for d in (date(2020, 12, 1),)]
    assert on_register == [1, 0, 1]
    with pytest.raises(InputError) as refused:
        threats_archive.archive_threat(threat, None, on=date(2020, 11, 1))
    assert "before the threat's last recorded change" in refused.value.errors["on"]


def test_a_rescore_is_a_review_that_moves_the_next_review_by_the_levels_interval(register, users):
    threat = register.threat(identified_on=date(2020, 7, 15))  # residual 3 x 3: medium
    service.update_threat(
        threat,
        residual_likelihood=4,
        residual_impact=4,
        scored_on="2020-11-01",
        author_id=users[Role.SECURITY].id,
    )
    db.session.commit()
    review = threat.state_changes[-1]
    assert review.kind is StateChangeKind.RESCORE
    assert review.changed_on == date(2020, 11, 1)
    assert review.author_id == users[Role.SECURITY].id
    # Moved from the review by the interval of the new level (4 x 4 = 16).
    expected = next_review_date(
        date(2020, 11, 1), level_for(16, DEFAULT_MATRIX), DEFAULT_REVIEW_INTERVALS
    )
    assert threat.next_review_on == review.next_review_on == expected
    assert expected != threat.state_changes[0].next_review_on
    # Overdue at a date reads the next review in force on that date.
    # Before the re-score the first review date (later than the new one) was in force.
    assert threat.state_changes[0].next_review_on > expected + timedelta(days=1)
    assert figures.overdue_reviews(date(2020, 10, 31)) == 0
    assert figures.overdue_reviews(expected + timedelta(days=1)) == 1


def test_overdue_at_a_date_uses_the_next_review_then_in_force(register, users):
    threat = register.threat(identified_on=date(2020, 7, 15), next_review_on="2020-08-01")
    states.review_threat(
        threat,
        users[Role.SECURITY].id,
        on=date(2020, 9, 1),
        outcome="Still relevant",
        next_review_on=date(2020, 12, 1),
    )
    db.session.commit()
    assert figures.overdue_reviews(date(2020, 8, 15)) == 1  # 2020-08-01 had passed
    assert figures.overdue_reviews(date(2020, 9, 15)) == 0  # reviewed, next 2020-12-01
    assert figures.overdue_reviews(date(2020, 12, 15)) == 1
    [group] = figures.reviews_due(date(2020, 8, 15))
    assert group.threats[0].next_review_on == date(2020, 8, 1)
    review = threat.state_changes[-1]
    assert (review.kind, review.note) == (StateChangeKind.REVIEW, "Still relevant")


def test_a_review_dated_in_the_future_or_before_the_next_one_is_refused(register, users):
    threat = register.threat()
    before = _count_states()
    with pytest.raises(InputError) as refused:
        states.review_threat(threat, None, on=date(2021, 2, 1))
    assert "future" in refused.value.errors["reviewed_on"]
    with pytest.raises(InputError) as refused:
        states.review_threat(threat, None, on=date(2020, 9, 1), next_review_on=date(2020, 9, 1))
    assert "after this one" in refused.value.errors["next_review_on"]
    db.session.rollback()
    assert _count_states() == before


def test_acceptance_with_expiry_is_dated_and_read_as_of_a_date(register, users):
    threat = register.threat(identified_on=date(2020, 7, 15))
    service.update_threat(
        threat,
        treatment="accept",
        treatment_rationale="Within appetite.",
        acceptance_approver_id=users[Role.MANAGER].id,
        acceptance_expires_on="2021-06-30",
        status_changed_on="2020-10-01",
        author_id=users[Role.SECURITY].id,
    )
    db.session.commit()
    assert figures.treatments_on([threat.id], date(2020, 9, 30)) == {threat.id: None}
    accepted = figures.treatments_on([threat.id], date(2020, 10, 1))[threat.id]
    assert accepted.value == "accept"
    assert state_on(threat, date(2020, 10, 1)).acceptance_expires_on == date(2021, 6, 30)


def test_a_change_dated_in_a_published_quarter_names_the_report_it_corrects(
    register, users, client_as
):
    objective = Objective(title="Front Line Defenses", fiscal_year=2020)
    db.session.add(objective)
    db.session.flush()
    db.session.add(
        ReportPublication(
            objective_id=objective.id,
            quarter_start=date(2020, 7, 1),
            published_at=datetime(2020, 10, 5, 9, 0),
            generated_on=date(2020, 10, 5),
            pdf=b"%PDF",
            figures={},
        )
    )
    threat = register.threat(identified_on=date(2020, 7, 15))
    db.session.commit()
    client = client_as(Role.SECURITY)
    response = client.post(
        f"/threats/{threat.id}/archive", data={"on": "2020-09-01"}, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "differ from the published report of Front Line Defenses FY20-21 Q1" in html
    assert "(published 2020-10-05)" in html
    response = client.post(
        f"/threats/{threat.id}/restore", data={"on": "2020-10-02"}, follow_redirects=True
    )
    assert "published report" not in response.get_data(as_text=True)


def test_the_threat_page_shows_the_status_and_review_history(register, users, client_as):
    threat = register.threat(identified_on=date(2020, 7, 15))
    client = client_as(Role.SECURITY)
    response = client.post(
        f"/threats/{threat.id}/review",
        data={"reviewed_on": "2020-11-02", "outcome": "Checked the edge limits"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Review recorded" in html
    history = html.split('data-testid="state-history"')[1].split("</table>")[0]
    assert "2020-11-02" in history and "Checked the edge limits" in history
    assert "Identified" in history
    response = client.post(
        f"/threats/{threat.id}/review", data={"reviewed_on": "2020-10-01"}, follow_redirects=True
    )
    assert "before the threat&#39;s last recorded change" in response.get_data(as_text=True)


def test_the_identified_date_cannot_move_after_the_first_assessment(register, users):
    threat = register.threat(identified_on=date(2020, 7, 15))
    with pytest.raises(InputError) as refused:
        service.update_threat(threat, identified_on="2020-08-01", author_id=None)
    assert "first assessed on 2020-07-15" in refused.value.errors["identified_on"]
    db.session.rollback()
    service.update_threat(threat, identified_on="2020-07-01", author_id=None)
    db.session.commit()
    assert threat.identified_on == date(2020, 7, 1)


def test_a_deployment_that_rescores_the_threat_records_a_review(register, users):
    from app.countermeasures.service import create_countermeasure
    from app.countermeasures.status import deploy_countermeasure

    threat = register.threat(identified_on=date(2020, 7, 15))
    cm = create_countermeasure(
        title="Rate limits at the edge",
        threat_ids=[threat.id],
        planned_on=date(2020, 8, 1),
        user_id=users[Role.SECURITY].id,
    )
    deploy_countermeasure(
        cm,
        deployed_on=date(2020, 11, 20),
        residuals={threat.id: (1, 2)},
        user_id=users[Role.SECURITY].id,
    )
    db.session.commit()
    review = threat.state_changes[-1]
    assert (review.kind, review.changed_on) == (StateChangeKind.RESCORE, date(2020, 11, 20))
    expected = next_review_date(
        date(2020, 11, 20), level_for(2, DEFAULT_MATRIX), DEFAULT_REVIEW_INTERVALS
    )
    assert threat.next_review_on == review.next_review_on == expected
    assert "Rate limits at the edge" in review.note
