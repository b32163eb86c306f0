"""Benchmark of the threat register at size: list, search, filters, sort, heat map, threat page.

Run by hand (never from pytest):

    .venv/bin/python -m bench.threats                 # SQLite, 100,000 then 100 threats
    .venv/bin/python -m bench.threats --db postgresql # a private database on 127.0.0.1:5432
    .venv/bin/python -m bench.threats --sizes 1000

Each size gets a fresh database (migrated, then ``seed-synthetic --threats N``), the
load time is printed, then every page is requested 50 times beside /healthz.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

from bench.harness import measure, report, signed_in_client

PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
EMAIL = "bench-security@bench.example"
PASSWORD = "bench-password-123"
URLS = [
    "/healthz",
    "/threats",
    "/threats?q=ransomware",
    "/threats?q=ransomware+backup",
    "/threats?level=high",
    "/threats?sort=-residual",
    "/threats?sort=title&page=3",
    "/threats?overdue=1&sort=review",
    "/heatmap",
    "/heatmap?kind=inherent&quarter=FY20-21 Q1",
    "/threats?kind=residual&l=3&i=4&as_of=2020-09-30",
    "/threats/{id}",
]


def _database(engine: str, workdir: Path, size: int) -> tuple[str, object]:
    if engine == "sqlite":
        return f"sqlite:///{workdir / f'bench-{size}.db'}", None
    import psycopg

    name = f"frontline_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{url}/{name}", name


def _drop(name) -> None:
    if name:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(engine: str, size: int, workdir: Path) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from app import create_app
    from app.extensions import db
    from app.models.audit import set_cli_actor
    from app.models.threats import Threat
    from app.models.user import Role, User
    from app.seed.synthetic import fill

    url, pg_name = _database(engine, workdir, size)
    try:
        app = create_app(
            "development",
            SQLALCHEMY_DATABASE_URI=url,
            FRONTLINE_TODAY="2021-01-15",
            WTF_CSRF_ENABLED=False,
        )
        app.config["RATELIMIT_ENABLED"] = False
        with app.app_context():
            upgrade()
            set_cli_actor(None, "bench")
            user = User(email=EMAIL, name="Bench Security", role=Role.SECURITY)
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.commit()
            started = time.perf_counter()
            fill(seed=1, users=20, threats=size)
            loaded = time.perf_counter() - started
            # Fresh statistics for the planner, as after any large load.
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            threat_id = db.session.scalar(
                select(Threat.id).where(Threat.archived_at.is_(None)).order_by(Threat.id)
            )
            db.session.remove()
        print(f"\n== {engine}: {size:,} threats (seed-synthetic took {loaded:.1f} s) ==")
        client = signed_in_client(app, EMAIL, PASSWORD)
        rows = [measure(app, client, u.format(id=threat_id)) for u in URLS]
        report(rows)
        with app.app_context():
            db.engine.dispose()
    finally:
        _drop(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--sizes", default="100000,100", help="comma-separated threat counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="frontline-bench-") as workdir:
        for size in [int(s) for s in args.sizes.split(",")]:
            run(args.db, size, Path(workdir))


if __name__ == "__main__":
    main()
