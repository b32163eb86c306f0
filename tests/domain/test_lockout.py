from __future__ import annotations

from app.domain.lockout import lock_seconds


def test_no_lock_below_the_threshold():
    assert [lock_seconds(n, 10, 60, 3600) for n in range(10)] == [0] * 10


def test_the_lock_doubles_with_each_further_failure_up_to_the_maximum():
    assert [lock_seconds(n, 10, 60, 3600) for n in range(10, 18)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    assert lock_seconds(10_000, 10, 60, 3600) == 3600


def test_a_threshold_of_zero_turns_the_lockout_off():
    assert lock_seconds(500, 0, 60, 3600) == 0
