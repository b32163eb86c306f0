from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.systems import Position, PositionStatusChange, Responsibility, StaffMember, System
from tests.coverage.conftest import count

ARGS = ["seed-synthetic", "--users", "2", "--systems", "60", "--staff", "20"]
ARGS += ["--responsibilities", "150", "--positions", "5", "--seed", "7"]


def _snapshot():
    return (
        list(db.session.scalars(select(System.name).order_by(System.id))),
        list(
            db.session.execute(
                select(
                    Responsibility.staff_member_id, Responsibility.system_id, Responsibility.since
                ).order_by(Responsibility.id)
            )
        ),
    )


def test_seed_synthetic_sizes_and_reproducible(runner):
    result = runner.invoke(args=ARGS)
    assert result.exit_code == 0, result.output
    assert (count(System), count(StaffMember), count(Responsibility), count(Position)) == (
        60,
        20,
        150,
        5,
    )
    assert count(PositionStatusChange) >= 5
    first = _snapshot()
    from tests.conftest import _empty_tables

    _empty_tables()
    assert runner.invoke(args=ARGS).exit_code == 0
    second = _snapshot()
    # Same seed, same data (ids aside).
    assert first[0] == second[0]
    assert [r[2] for r in first[1]] == [r[2] for r in second[1]]


def test_seed_synthetic_twice_adds_more_without_name_clashes(runner):
    assert runner.invoke(args=ARGS).exit_code == 0
    assert runner.invoke(args=[*ARGS[:-2], "--seed", "8"]).exit_code == 0
    assert count(System) == 120
