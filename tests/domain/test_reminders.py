"""The reminder rules over plain values: each dated by the register's today."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.countermeasures import CountermeasureFact
from app.domain.quarters import Quarter
from app.domain.reminders import (
    DEFAULT_DAYS,
    Event,
    Told,
    acceptance_state,
    confidence_passes,
    days_setting,
    digest_due,
    group_by_kind,
    is_slipping,
    kr_status_missing,
    leaving_soon,
    review_state,
    should_tell,
)

TODAY = date(2021, 1, 15)
Q3 = Quarter(2020, 3)  # FY20-21 Q3: January to March 2021


@pytest.mark.parametrize(
    "review_on,days,expected",
    [
        (None, 7, None),
        (date(2021, 1, 14), 7, "overdue"),
        (date(2021, 1, 15), 7, "due"),  # due today is not yet overdue
        (date(2021, 1, 22), 7, "due"),
        (date(2021, 1, 23), 7, None),
        (date(2021, 1, 16), 0, None),
    ],
)
def test_review_state(review_on, days, expected):
    assert review_state(review_on, TODAY, days) == expected


@pytest.mark.parametrize(
    "expires_on,expected",
    [(date(2021, 1, 10), "expired"), (date(2021, 1, 29), "expiring"), (date(2021, 1, 30), None)],
)
def test_acceptance_state(expires_on, expected):
    assert acceptance_state(expires_on, TODAY, 14) == expected


def _cm(**kw):
    values = {"id": 1, "status": "PLANNED", "target_quarter_start": Q3.first_day}
    return CountermeasureFact(**{**values, **kw})


def test_slipping_only_near_the_end_of_its_own_quarter_and_not_deployed():
    assert Q3.first_day == date(2021, 1, 1) and Q3.last_day == date(2021, 3, 31)
    near_end = date(2021, 3, 20)
    assert is_slipping(_cm(), Q3, near_end, 14)
    assert not is_slipping(_cm(), Q3, TODAY, 14)  # the quarter has far to go
    assert is_slipping(_cm(), Q3, TODAY, 90)
    assert not is_slipping(_cm(deployed_on=date(2021, 3, 1)), Q3, near_end, 14)
    assert not is_slipping(_cm(status="RETIRED"), Q3, near_end, 14)  # dropped, not slipping
    assert not is_slipping(_cm(target_quarter_start=date(2021, 4, 1)), Q3, near_end, 14)


def test_leaving_soon_counts_today_and_the_window():
    assert leaving_soon(TODAY, TODAY, 30)
    assert leaving_soon(date(2021, 2, 14), TODAY, 30)
    assert not leaving_soon(date(2021, 2, 15), TODAY, 30)
    assert not leaving_soon(date(2021, 1, 14), TODAY, 30)  # already gone
    assert not leaving_soon(None, TODAY, 30)


def test_kr_status_missing_once_the_quarter_ended():
    q2 = Quarter(2020, 2)
    assert kr_status_missing(q2, False, TODAY)
    assert not kr_status_missing(q2, True, TODAY)
    assert not kr_status_missing(Q3, False, TODAY)
    assert not kr_status_missing(q2, False, TODAY, days=15)  # grace period not over


def test_confidence_levels():
    assert confidence_passes(None, "any")
    assert not confidence_passes(None, "low")
    assert confidence_passes(30, "medium") and not confidence_passes(29, "medium")
    assert confidence_passes(70, "high") and not confidence_passes(69, "high")


def _event(kind="review", state=("overdue", TODAY), key="review:1"):
    return Event(key=key, kind=kind, title="t", detail="d", path="/", state=state)


def test_told_again_when_new_changed_or_a_week_old():
    event = _event()
    assert should_tell(event, None, TODAY)
    told = Told(event.fingerprint, TODAY)
    assert not should_tell(event, told, TODAY)
    assert not should_tell(event, Told(event.fingerprint, date(2021, 1, 9)), TODAY)
    assert should_tell(event, Told(event.fingerprint, date(2021, 1, 8)), TODAY)
    changed = _event(state=("overdue", date(2021, 1, 14)))
    assert changed.fingerprint != event.fingerprint
    assert should_tell(changed, told, TODAY)
    candidate = _event(kind="candidate", state=(5,), key="candidate:5")
    assert not should_tell(candidate, Told(candidate.fingerprint, date(2020, 1, 1)), TODAY)


def test_cadence():
    assert digest_due("daily", TODAY, TODAY)
    assert not digest_due("off", None, TODAY)
    assert digest_due("weekly", None, TODAY)
    assert not digest_due("weekly", date(2021, 1, 9), TODAY)
    assert digest_due("weekly", date(2021, 1, 8), TODAY)


def test_days_setting_fills_defaults_and_ignores_bad_values():
    assert days_setting(None) == DEFAULT_DAYS
    days = days_setting({"review": 3, "acceptance": -1, "slipping": "x", "nope": 4})
    assert days["review"] == 3
    assert days["acceptance"] == DEFAULT_DAYS["acceptance"]
    assert days["slipping"] == DEFAULT_DAYS["slipping"]
    assert "nope" not in days


def test_groups_follow_the_kinds_order():
    events = [_event(kind="candidate", key="c"), _event(key="r1"), _event(key="r2")]
    groups = group_by_kind(events)
    assert [k for k, _ in groups] == ["review", "candidate"]
    assert [e.key for e in groups[0][1]] == ["r1", "r2"]
