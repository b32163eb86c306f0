"""The migration adding scoring methods keeps the score history: every recorded
assessment reads as likelihood × impact, with its cells and scores as they were."""

from __future__ import annotations

import random
from datetime import date

import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.models.threats import Threat
from tests.conftest import backend, create_pg_database, drop_pg_database
from tests.threats.test_history_migration import _old_register

BEFORE = "53156c801557"


def test_upgrade_reads_every_past_assessment_as_the_matrix(tmp_path):
    if backend() == "postgresql":
        name, url = create_pg_database("frontline_method_migration")
    else:
        name, url = None, f"sqlite:///{tmp_path / 'old.db'}"
    try:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            upgrade(revision=BEFORE)
            threats, changes = _old_register(random.Random(5))
            meta = sa.MetaData()
            meta.reflect(db.engine, only=["threats", "threat_score_changes"])
            with db.engine.begin() as conn:
                conn.execute(sa.insert(meta.tables["threats"]), threats)
                conn.execute(sa.insert(meta.tables["threat_score_changes"]), changes)
            upgrade()
            rows = db.session.execute(
                sa.text(
                    "SELECT threat_id, inherent_score, residual_score, scoring_method, "
                    "scoring_inputs, method_score, method_rating, method_explanation "
                    "FROM threat_score_changes ORDER BY threat_id"
                )
            ).all()
            assert [(r[0], r[1], r[2]) for r in rows] == [
                (c["threat_id"], c["inherent_score"], c["residual_score"]) for c in changes
            ]
            assert {tuple(r[3:]) for r in rows} == {("matrix", "", None, "", "")}
            threat = db.session.get(Threat, 1)
            assert (threat.scoring_method, threat.scoring_inputs) == ("matrix", "")
            assert threat.identified_on >= date(2020, 6, 1)
            db.session.remove()
            db.engine.dispose()
    finally:
        if name:
            drop_pg_database(name)
