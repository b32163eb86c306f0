"""The history invariant for coverage, positions, countermeasures and the OKR metrics.

A random register, then a random sequence of dated operations (deploy or retire a
countermeasure, re-target it, retire a system, take it out of production or change its
criticality, a person leaving or unticked, a position filled or un-filled, a responsibility
ended). For every operation effective on day E, every figure as of a day before E is the
same before and after it; an operation the rules refuse changes nothing at all.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app import figure_cache, fiscal
from app.countermeasures import figures as cm_figures
from app.countermeasures import service
from app.countermeasures import status as countermeasures_status
from app.coverage import figures as cov_figures
from app.coverage import positions as coverage_positions
from app.coverage import queries as cov_queries
from app.coverage import responsibilities as coverage_responsibilities
from app.coverage import staff as coverage_staff
from app.coverage import systems as coverage_systems
from app.domain.coverage import coverage_trend
from app.domain.quarters import Quarter
from app.extensions import db
from app.metrics import METRICS, measured_on, one_reading_per_figure
from app.models.countermeasures import Countermeasure, CountermeasureStatus
from app.models.systems import (
    Criticality,
    Position,
    PositionStatus,
    Responsibility,
    StaffMember,
    System,
)
from app.reports.quarter_report.coverage import _most_critical
from app.validation import InputError
from tests.conftest import _empty_tables, backend

TODAY = date(2021, 1, 15)
FIRST = date(2019, 10, 1)
SPAN = (TODAY - FIRST).days
# FY19-20 Q2 to FY20-21 Q3 (the quarter running on TODAY, measured on TODAY).
QUARTERS = [Quarter(2019, n, 7) for n in (2, 3, 4)] + [Quarter(2020, n, 7) for n in (1, 2, 3)]
CHECK_DAYS = [q.last_day for q in QUARTERS[:-1]]
MY_METRICS = [
    "spof_staff",
    "uncovered_systems",
    "spof_positions_filled",
    "spof_positions_active_hiring",
    "countermeasures_deployed",
    "countermeasures_deployed_to_date",
]


@pytest.fixture(autouse=True)
def pinned_today(app, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", TODAY.isoformat())


def days(min_value=FIRST, max_value=TODAY):
    return st.integers(0, (max_value - min_value).days).map(lambda n: min_value + timedelta(days=n))


def attempt(change) -> bool:
    """Run one change in a savepoint: True if saved, False if the rules refused it."""
    savepoint = db.session.begin_nested()
    try:
        change()
        db.session.flush()
    except InputError:
        savepoint.rollback()
        return False
    savepoint.commit()
    db.session.commit()
    return True


def build_register(data) -> None:
    systems = [
        coverage_systems.create_system(
            name=f"S{i}",
            in_production=data.draw(st.booleans(), "prod"),
            criticality=data.draw(st.sampled_from(list(Criticality)), "criticality"),
        )
        for i in range(data.draw(st.integers(1, 4), "systems"))
    ]
    people = [
        coverage_staff.create_staff_member(name=f"P{i}")
        for i in range(data.draw(st.integers(1, 4), "staff"))
    ]
    db.session.commit()
    for _ in range(data.draw(st.integers(0, 6), "responsibilities")):
        since = data.draw(days(max_value=TODAY - timedelta(days=30)), "since")
        until = data.draw(st.one_of(st.none(), days(since, TODAY)), "until")
        attempt(
            lambda since=since, until=until: coverage_responsibilities.add_responsibility(
                staff_member_id=data.draw(st.sampled_from(people)).id,
                system_id=data.draw(st.sampled_from(systems)).id,
                since=since,
                until=until,
            )
        )
    for i in range(data.draw(st.integers(0, 2), "positions")):
        opened = data.draw(days(max_value=TODAY - timedelta(days=60)), "opened")
        attempt(
            lambda opened=opened, i=i: coverage_positions.create_position(
                title=f"Pos {i}", opened_on=opened, system_ids=[systems[0].id]
            )
        )
    for i in range(data.draw(st.integers(0, 4), "countermeasures")):
        planned = data.draw(days(), "planned")
        target = data.draw(st.sampled_from(QUARTERS), "target")
        attempt(
            lambda planned=planned, target=target, i=i: service.create_countermeasure(
                title=f"CM {i}", planned_on=planned, target_quarter=target
            )
        )


def _sql_states(day: date) -> dict[int, str | None]:
    """The systems list's coverage states (the SQL form of the rule) on ``day``."""
    systems = db.session.scalars(
        select(System)
        .options(cov_queries.counted_on(day))
        .execution_options(populate_existing=True)
        .order_by(System.id)
    ).all()
    holders = cov_queries.holders_of([s.id for s in systems], day)
    return {s.id: cov_queries.state_for(s, len(holders[s.id])) for s in systems}


def snapshot(before: date) -> dict:
    """Every figure of this half as of each checked day before ``before``."""
    figure_cache.clear()
    db.session.expire_all()
    checked = sorted({d for d in [*CHECK_DAYS, before - timedelta(days=1)] if d < before})
    figures: dict = {}
    for day in checked:
        c = cov_figures.coverage_on(day)
        figures[("coverage", day)] = (
            [p.id for p, _ in c.sole_responsible],
            [s.id for s in c.spof_systems],
            [s.id for s in c.uncovered_systems],
        )
        sql_states = _sql_states(day)
        # The lists' SQL form of the rule says what the one rule (the domain) says.
        assert {k: v for k, v in sql_states.items() if v} == {
            entry.system.id: entry.state for entry in c.systems
        }, day
        figures[("sql states", day)] = sql_states
        figures[("pipeline", day)] = cov_figures.pipeline_on(day)
        # The report's uncovered list, ordered and labelled by the criticality of the day.
        figures[("uncovered by criticality", day)] = _most_critical(c.uncovered_systems, day)
    trend = coverage_trend(*cov_figures.load_facts(min(checked), max(checked)), checked)
    figures["trend"] = [row[1:] for row in trend]
    with one_reading_per_figure():
        for quarter in QUARTERS:
            if measured_on(quarter) < before:
                figures[("quarter", quarter.label)] = (
                    cm_figures.countermeasures_deployed(quarter),
                    cm_figures.countermeasures_deployed_to_date(quarter),
                    cm_figures.slipped_count(quarter),
                    [METRICS[name].value(quarter) for name in MY_METRICS],
                )
    return figures


# Operations: each picks its record and its day, and returns (effective day, change).


def _pick(data, model, label):
    ids = db.session.scalars(select(model.id).order_by(model.id)).all()
    return db.session.get(model, data.draw(st.sampled_from(ids), label)) if ids else None


def op_deploy(data):
    cm = _pick(data, Countermeasure, "cm")
    if cm is None or cm.status not in (
        CountermeasureStatus.PLANNED,
        CountermeasureStatus.IN_PROGRESS,
    ):
        return None
    day = data.draw(days(cm.planned_on), "deployed_on")
    return day, lambda: countermeasures_status.deploy_countermeasure(
        cm, deployed_on=day, user_id=None
    )


def op_retire_countermeasure(data):
    cm = _pick(data, Countermeasure, "cm")
    if cm is None or cm.status == CountermeasureStatus.RETIRED:
        return None
    day = data.draw(days(cm.planned_on), "retired_on")
    return day, lambda: countermeasures_status.change_status(
        cm, CountermeasureStatus.RETIRED, changed_on=day, user_id=None
    )


def op_retarget(data):
    cm = _pick(data, Countermeasure, "cm")
    if cm is None:
        return None
    target = data.draw(st.sampled_from(QUARTERS), "new target")
    values = {
        "title": cm.title,
        "threat_ids": [],
        "target_quarter": target,
    }
    return fiscal.today(), lambda: service.update_countermeasure(cm, **values)


def _system_values(system: System) -> dict:
    return {
        "name": system.name,
        "description": system.description,
        "team": system.team,
        "criticality": system.criticality,
        "in_production": system.in_production,
        "retired_on": system.retired_on,
    }


def op_retire_system(data):
    system = _pick(data, System, "system")
    if system is None or system.retired_on is not None:
        return None
    day = data.draw(days(), "retired_on")
    values = {**_system_values(system), "retired_on": day}
    return day, lambda: coverage_systems.update_system(system, version=None, **values)


def op_production(data):
    system = _pick(data, System, "system")
    if system is None:
        return None
    day = data.draw(days(), "production changed on")
    values = {
        **_system_values(system),
        "in_production": not system.in_production,
        "production_changed_on": day,
    }
    return day, lambda: coverage_systems.update_system(system, version=None, **values)


def op_criticality(data):
    system = _pick(data, System, "system")
    if system is None:
        return None
    day = data.draw(days(), "criticality changed on")
    others = [c for c in Criticality if c != system.criticality]
    values = {
        **_system_values(system),
        "criticality": data.draw(st.sampled_from(others), "criticality"),
        "criticality_changed_on": day,
    }
    return day, lambda: coverage_systems.update_system(system, version=None, **values)


def _staff_values(person: StaffMember) -> dict:
    return {
        "name": person.name,
        "email": person.email,
        "team": person.team,
        "user_id": person.user_id,
    }


def op_leave(data):
    person = _pick(data, StaffMember, "person")
    if person is None or person.left_on is not None:
        return None
    effective = data.draw(days(FIRST + timedelta(days=1)), "first day without them")
    values = {**_staff_values(person), "active": True, "left_on": effective - timedelta(days=1)}
    return effective, lambda: coverage_staff.update_staff_member(
        person, version=None, confirm_impact=True, **values
    )


def op_untick_active(data):
    person = _pick(data, StaffMember, "person")
    if person is None or person.left_on is not None:
        return None
    values = {**_staff_values(person), "active": False, "left_on": None}
    return fiscal.today(), lambda: coverage_staff.update_staff_member(
        person, version=None, confirm_impact=True, **values
    )


def op_end_responsibility(data):
    responsibility = _pick(data, Responsibility, "responsibility")
    if responsibility is None or responsibility.until is not None:
        return None
    effective = data.draw(days(responsibility.since + timedelta(days=1)), "first day without")
    return effective, lambda: coverage_responsibilities.update_responsibility(
        responsibility,
        version=None,
        kind=responsibility.kind,
        since=responsibility.since,
        until=effective - timedelta(days=1),
        confirm_impact=True,
    )


def op_position(data):
    position = _pick(data, Position, "position")
    if position is None:
        return None
    status = data.draw(st.sampled_from(list(PositionStatus)), "status")
    day = data.draw(days(position.opened_on), "changed_on")
    people = db.session.scalars(select(StaffMember.id)).all()
    hire = data.draw(st.sampled_from(people), "hire") if status == PositionStatus.FILLED else None
    return day, lambda: coverage_positions.change_position_status(
        position,
        version=None,
        status=status,
        changed_on=day,
        hire_id=hire,
        add_responsibilities=data.draw(st.booleans(), "hand over"),
    )


OPERATIONS = [
    op_deploy,
    op_retire_countermeasure,
    op_retarget,
    op_retire_system,
    op_production,
    op_criticality,
    op_leave,
    op_untick_active,
    op_end_responsibility,
    op_position,
]


def run_history_invariant(data) -> None:
    _empty_tables()
    db.session.expunge_all()
    build_register(data)
    for _ in range(data.draw(st.integers(1, 3), "operations")):
        operation = data.draw(st.sampled_from(OPERATIONS), "operation")
        picked = operation(data)
        if picked is None:
            continue
        effective, change = picked
        before = snapshot(effective)
        saved = attempt(change)
        after = snapshot(effective)
        assert after == before, (operation.__name__, effective, saved)


@settings(
    max_examples=40 if backend() == "sqlite" else 15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
def test_a_change_effective_on_e_moves_no_figure_before_e(data):
    run_history_invariant(data)
