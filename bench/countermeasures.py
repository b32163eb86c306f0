"""Countermeasure pages at size: 100,000 threats and 30,000 countermeasures.

    .venv/bin/python -m bench.countermeasures                 # SQLite, full size
    .venv/bin/python -m bench.countermeasures --small         # 100 threats, 30 countermeasures
    .venv/bin/python -m bench.countermeasures --reuse /tmp/cm.db   # build once, measure again
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/frontline_bench \
        .venv/bin/python -m bench.countermeasures             # an empty PostgreSQL database

Builds a fresh database (SQLite in a temporary directory unless DATABASE_URL is set), fills
it with ``seed-synthetic`` (its ``--threats`` step when there is one, otherwise threats
inserted in bulk here), then times the quarter view and the list beside /healthz. A database
that already holds threats is measured as it is.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models.audit import set_cli_actor  # noqa: E402
from app.models.countermeasures import Countermeasure, CountermeasureStatus  # noqa: E402
from app.models.threats import Threat, ThreatScoreChange, ThreatStatus  # noqa: E402
from app.models.user import Role, User  # noqa: E402
from bench.harness import measure, report, signed_in_client  # noqa: E402

PASSWORD = "bench-password-123"
STATUSES = [s for s in ThreatStatus]


def insert_threats(n: int, seed: int) -> None:
    """Threats with one to three score changes each, spread over FY17-18 to FY21-22."""
    from app.seed.synthetic import bulk_insert

    rng = random.Random(seed)
    first_id = (db.session.scalar(select(func.max(Threat.id))) or 0) + 1
    threats, changes = [], []
    start, span = date(2017, 7, 1), (date(2022, 6, 30) - date(2017, 7, 1)).days
    for offset in range(n):
        threat_id = first_id + offset
        identified = start + timedelta(days=rng.randrange(span))
        on = identified
        for _ in range(rng.randint(1, 3)):
            il, ii = rng.randint(1, 5), rng.randint(1, 5)
            rl, ri = rng.randint(1, il), rng.randint(1, ii)
            changes.append(
                {
                    "threat_id": threat_id,
                    "changed_on": on,
                    "inherent_likelihood": il,
                    "inherent_impact": ii,
                    "residual_likelihood": rl,
                    "residual_impact": ri,
                    "inherent_score": il * ii,
                    "residual_score": rl * ri,
                    "note": "",
                }
            )
            on += timedelta(days=rng.randrange(10, 200))
        last = changes[-1]
        threats.append(
            {
                "id": threat_id,
                "title": f"Synthetic threat {threat_id}",
                "description": "Synthetic threat for the benchmark.",
                "status": rng.choice(STATUSES),
                "identified_on": identified,
                "version": 1,
                **{k: last[k] for k in last if k.startswith(("inherent_", "residual_"))},
            }
        )
    bulk_insert(Threat, threats, "threats")
    bulk_insert(ThreatScoreChange, changes, "threat scores")


def build(app, threats: int, countermeasures: int) -> None:
    from app.seed import seed_synthetic_command
    from app.seed.synthetic import fill

    with app.app_context():
        db.create_all()
        if db.session.scalar(select(func.count(Threat.id))):
            print("the database already holds threats: measuring it as it is", file=sys.stderr)
            return
        set_cli_actor(None, "bench")
        db.session.add(
            User(
                email="security@bench.example",
                name="Bench Security",
                role=Role.SECURITY,
                password_hash=generate_password_hash(PASSWORD),
            )
        )
        db.session.commit()
        options = {p.name for p in seed_synthetic_command.params}
        started = time.perf_counter()
        if "threats" in options:
            fill(seed=1, users=20, threats=threats, countermeasures=countermeasures)
        else:
            insert_threats(threats, seed=1)
            db.session.commit()
            fill(seed=1, users=20, countermeasures=countermeasures)
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        print(f"filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def run(threats: int, countermeasures: int, runs: int, reuse: str | None = None) -> list[dict]:
    url = os.environ.get("DATABASE_URL")
    tmp = None
    if reuse:
        url = f"sqlite:///{Path(reuse).resolve()}"
    elif not url:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/bench.db"
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        FRONTLINE_TODAY="2021-01-15",
        RATELIMIT_ENABLED=False,
    )
    build(app, threats, countermeasures)
    with app.app_context():
        counts = (
            db.session.scalar(select(func.count(Threat.id))),
            db.session.scalar(select(func.count(Countermeasure.id))),
            db.session.scalar(
                select(func.count(Countermeasure.id)).where(
                    Countermeasure.deployed_on.between(date(2020, 10, 1), date(2020, 12, 31))
                )
            ),
        )
        one = db.session.scalar(
            select(Countermeasure.id)
            .where(Countermeasure.status == CountermeasureStatus.DEPLOYED)
            .limit(1)
        )
        print(
            f"{counts[0]:,} threats, {counts[1]:,} countermeasures, "
            f"{counts[2]:,} deployed in FY20-21 Q2",
            file=sys.stderr,
        )
    client = signed_in_client(app, "security@bench.example", PASSWORD)
    urls = [
        "/healthz",
        "/quarters/FY20-21-Q2",
        "/quarters/FY20-21-Q2?page=3",
        "/countermeasures",
        "/countermeasures?status=deployed&sort=-deployed",
        "/countermeasures?quarter=FY20-21-Q2&type=preventive",
        "/countermeasures?sort=owner",
        f"/countermeasures/{one}",
    ]
    rows = [measure(app, client, u, runs=runs) for u in urls]
    if tmp is not None:
        with app.app_context():
            db.engine.dispose()
        tmp.cleanup()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threats", type=int, default=100_000)
    parser.add_argument("--countermeasures", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--small", action="store_true", help="100 threats, 30 countermeasures")
    parser.add_argument("--reuse", help="SQLite file to build once and measure again")
    args = parser.parse_args()
    if args.small:
        args.threats, args.countermeasures = 100, 30
    report(run(args.threats, args.countermeasures, args.runs, args.reuse))


if __name__ == "__main__":
    main()
