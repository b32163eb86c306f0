"""A fact effective on day E moves no catalogue figure as of a day before E."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from app.catalogues.figures import attack_coverage_on, framework_coverage_on
from app.catalogues.mappings import end_mapping, map_countermeasure, map_threat
from app.extensions import db
from app.models.catalogues import CountermeasureMapping, ThreatMapping
from app.models.countermeasures import Countermeasure, CountermeasureStatus
from app.models.threats import Threat

FIRST, LAST = date(2020, 7, 1), date(2021, 1, 15)
TECHNIQUES = ["T1566", "T1566.002", "T1486", "T1110", "T1059", "T1190", "T1078"]
CONTROLS = ["A.5.1", "A.5.15", "A.8.7", "A.8.13", "A.8.16"]


def _later(rng: random.Random, day: date) -> date:
    return day + timedelta(days=rng.randint(1, 120))


def _add_later_facts(rng: random.Random, day: date, attack: int, annex: int) -> None:
    threats = db.session.scalars(select(Threat.id)).all()
    cms = db.session.scalars(select(Countermeasure)).all()
    for _ in range(3):
        try:
            with db.session.begin_nested():
                map_threat(
                    rng.choice(threats), attack, rng.choice(TECHNIQUES), _later(rng, day), None
                )
        except Exception:  # noqa: BLE001 - an already-mapped pair: try another fact
            pass
    for cm in rng.sample(cms, 2):
        ref_library = rng.choice([(attack, TECHNIQUES), (annex, CONTROLS)])
        try:
            with db.session.begin_nested():
                map_countermeasure(
                    cm.id, ref_library[0], rng.choice(ref_library[1]), _later(rng, day), None
                )
        except Exception:  # noqa: BLE001
            pass
    for model in (ThreatMapping, CountermeasureMapping):
        open_ones = db.session.scalars(select(model).where(model.unmapped_on.is_(None))).all()
        if open_ones:
            mapping = rng.choice(open_ones)
            end_mapping(mapping, max(_later(rng, day), mapping.mapped_on))
    planned = [c for c in cms if c.deployed_on is None]
    if planned:
        cm = rng.choice(planned)
        cm.status, cm.deployed_on = CountermeasureStatus.DEPLOYED, _later(rng, day)
    deployed = [c for c in cms if c.deployed_on and c.deployed_on <= day and not c.retired_on]
    if deployed:
        cm = rng.choice(deployed)
        cm.status, cm.retired_on = CountermeasureStatus.RETIRED, _later(rng, day)
    db.session.flush()


def test_later_facts_never_move_an_earlier_figure(register, framework, annex_a):
    for seed in range(25):
        rng = random.Random(seed)
        day = FIRST + timedelta(days=rng.randint(0, (LAST - FIRST).days))
        attack_before = attack_coverage_on.uncached(register, day)
        controls_before = framework_coverage_on.uncached(framework, day)
        savepoint = db.session.begin_nested()
        _add_later_facts(rng, day, register, annex_a.id)
        assert attack_coverage_on.uncached(register, day) == attack_before, (seed, day)
        assert framework_coverage_on.uncached(framework, day) == controls_before, (seed, day)
        savepoint.rollback()
