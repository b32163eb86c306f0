"""The migration to dated threat states keeps every figure: a register written under the
previous schema (statuses, archive timestamps and review dates on the threats only) reads
the same figures after the upgrade as the previous code computed from those columns."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app, figure_cache
from app.domain.scoring import DEFAULT_MATRIX, level_for
from app.extensions import db
from app.threats import figures
from tests.conftest import backend, create_pg_database, drop_pg_database

BEFORE = "02043349462d"
STATUSES = ["IDENTIFIED", "ASSESSED", "IN_TREATMENT", "MONITORING", "CLOSED"]
DAYS = [date(2020, 7, 1), date(2020, 9, 30), date(2020, 11, 1), date(2020, 12, 31)]


def _old_register(rng: random.Random) -> tuple[list[dict], list[dict]]:
    threats, changes = [], []
    for tid in range(1, 61):
        identified = date(2020, 6, 1) + timedelta(days=rng.randint(0, 180))
        archived = None
        if rng.random() < 0.25:
            day = identified + timedelta(days=rng.randint(-5, 90))
            archived = datetime(day.year, day.month, day.day, 10, 30, tzinfo=UTC)
        li, im = rng.randint(1, 5), rng.randint(1, 5)
        threats.append(
            {
                "id": tid,
                "title": f"Threat {tid}",
                "description": "",
                "source": "INTERNAL",
                "status": rng.choice(STATUSES),
                "treatment": rng.choice([None, "MITIGATE", "ACCEPT"]),
                "treatment_rationale": "",
                "identified_on": identified,
                "next_review_on": identified + timedelta(days=rng.randint(10, 200)),
                "inherent_likelihood": li,
                "inherent_impact": im,
                "residual_likelihood": li,
                "residual_impact": im,
                "inherent_score": li * im,
                "residual_score": li * im,
                "archived_at": archived,
                "version": 1,
                "created_at": datetime.now(UTC),
                "updated_at": datetime.now(UTC),
            }
        )
        changes.append(
            {
                "threat_id": tid,
                "changed_on": identified,
                "superseded_on": None,
                "inherent_likelihood": li,
                "inherent_impact": im,
                "residual_likelihood": li,
                "residual_impact": im,
                "inherent_score": li * im,
                "residual_score": li * im,
                "note": "",
            }
        )
    return threats, changes


def _old_figures(threats: list[dict], day: date) -> tuple:
    """What the previous code computed: current status and review, archived by date."""
    on_register = [
        t
        for t in threats
        if t["identified_on"] <= day
        and (t["archived_at"] is None or t["archived_at"].date() > day)
        and t["status"] != "CLOSED"
    ]
    cells: dict = {}
    for t in on_register:
        key = (t["residual_likelihood"], t["residual_impact"])
        cells[key] = cells.get(key, 0) + 1
    levels: dict = {}
    for t in on_register:
        level = level_for(t["residual_score"], DEFAULT_MATRIX)
        levels[level] = levels.get(level, 0) + 1
    overdue = sum(1 for t in on_register if t["next_review_on"] < day)
    return cells, levels, overdue


def _new_figures(day: date) -> tuple:
    figure_cache.clear()
    cells = {k: n for k, n in figures.heatmap_as_of(day, "residual").items() if n}
    levels = {k: n for k, n in figures.level_counts(day).items() if n}
    return cells, levels, figures.overdue_reviews(day)


def test_upgrade_dates_the_current_states_without_moving_a_figure(tmp_path):
    if backend() == "postgresql":
        name, url = create_pg_database("frontline_history_migration")
    else:
        name, url = None, f"sqlite:///{tmp_path / 'old.db'}"
    try:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            upgrade(revision=BEFORE)
            threats, changes = _old_register(random.Random(11))
            meta = sa.MetaData()
            meta.reflect(db.engine, only=["threats", "threat_score_changes"])
            with db.engine.begin() as conn:
                conn.execute(sa.insert(meta.tables["threats"]), threats)
                conn.execute(sa.insert(meta.tables["threat_score_changes"]), changes)
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT setval('threats_id_seq', 100)"))
            upgrade()
            for day in DAYS:
                assert _new_figures(day) == _old_figures(threats, day), day
            # Every threat has its state; archived ones from their archive day.
            rows = db.session.execute(
                sa.text(
                    "SELECT threat_id, changed_on, superseded_on, archived "
                    "FROM threat_state_changes ORDER BY threat_id, changed_on"
                )
            ).all()
            assert {r.threat_id for r in rows} == {t["id"] for t in threats}
            archived = [t for t in threats if t["archived_at"] is not None]
            assert len(rows) == len(threats) + sum(
                1 for t in archived if t["archived_at"].date() > t["identified_on"]
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        if name:
            drop_pg_database(name)
