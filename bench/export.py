"""Benchmark of the exports at register scale: CSV and XLSX of every threat.

Run by hand (never from pytest), once, with ``nice``:

    nice .venv/bin/python -m bench.export                  # SQLite, 100,000 threats
    nice .venv/bin/python -m bench.export --db postgresql  # a private database on 127.0.0.1
    nice .venv/bin/python -m bench.export --threats 10000 --countermeasures 3000

A fresh database is filled (``seed-synthetic``), then each export runs in a fresh Python
process (as a server worker would), beside the baseline measured in the same run: a bare
``SELECT`` of the threats table's own columns written with ``csv.writer``. For each:
seconds, bytes, and the growth of the process's resident memory during the export
(sampled every 5 ms, above what the process held after a warm-up request).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.threats import EMAIL, PASSWORD, PG_ADMIN_URL, _database, _drop

PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class PeakMemory:
    """The highest resident size seen while the block runs, above the size at its start."""

    def __enter__(self):
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(0.005)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth_mb(self) -> float:
        return round((self.peak - self.start) / 1e6, 1)


def _app(url: str):
    from app import create_app

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url, FRONTLINE_TODAY="2021-01-15")
    app.config["RATELIMIT_ENABLED"] = False
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def measure_one(url: str, what: str) -> dict:
    """In this (fresh) process: one export, timed, with its memory growth."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Threat

    app = _app(url)
    if what == "baseline":
        columns = [c for c in Threat.__table__.columns]
        with app.app_context():
            db.session.execute(select(*columns).limit(10)).all()  # connect, warm up
            started, cpu = time.perf_counter(), time.process_time()
            size = 0
            with PeakMemory() as memory:
                out = io.StringIO()
                writer = csv.writer(out)
                writer.writerow([c.name for c in columns])
                rows = db.session.execute(select(*columns).execution_options(yield_per=2000))
                for n, row in enumerate(rows, 1):
                    writer.writerow(row)
                    if n % 1000 == 0:
                        size += len(out.getvalue())
                        out.seek(0)
                        out.truncate()
                size += len(out.getvalue())
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        return {
            "what": what,
            "s": round(elapsed, 2),
            "cpu": round(cpu, 2),
            "bytes": size,
            "mb": memory.growth_mb,
        }
    client = app.test_client()
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    warm = client.get(what + ("&" if "?" in what else "?") + "q=nothing-matches-this")
    assert warm.status_code == 200, warm.status_code
    started, cpu = time.perf_counter(), time.process_time()
    with PeakMemory() as memory:
        response = client.get(what, buffered=False)
        assert response.status_code == 200, response.status_code
        size = sum(len(chunk) for chunk in response.response)
        response.close()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "what": what,
        "s": round(elapsed, 2),
        "cpu": round(cpu, 2),
        "bytes": size,
        "mb": memory.growth_mb,
    }


def _in_fresh_process(url: str, what: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.export", "--measure", what, "--url", url],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _load() -> str:
    # Other work on the machine slows every figure: said beside them.
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _kept(engine: str, keep: str) -> tuple[str, bool]:
    """(url, fresh) of the kept database ``keep``: a SQLite file, or a PostgreSQL database
    of that name on the bench server (created empty on first use)."""
    if engine == "sqlite":
        path = Path(keep).resolve()
        return f"sqlite:///{path}", not path.exists()
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (keep,)).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{keep}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{url}/{keep}", not found


def prepare(engine: str, workdir: Path, threats: int, countermeasures: int, keep: str | None):
    """(url, database to drop): a fresh database filled by ``seed-synthetic``, or the kept
    database ``keep`` (a SQLite file or a PostgreSQL database name; filled on first use,
    brought to the schema's head on every use)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db
    from app.models.audit import set_cli_actor
    from app.models.user import Role, User
    from app.seed.synthetic import fill

    if keep is not None:
        (url, fresh), pg_name = _kept(engine, keep), None
    else:
        (url, pg_name), fresh = _database(engine, workdir, threats), True
    if not fresh:
        with _app(url).app_context():
            upgrade()
            db.engine.dispose()
        print(f"\n== {engine}: reusing {keep} (load average {_load()}) ==")
        return url, pg_name
    app = _app(url)
    with app.app_context():
        upgrade()
        set_cli_actor(None, "bench")
        user = User(email=EMAIL, name="Bench Security", role=Role.SECURITY)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        started = time.perf_counter()
        fill(seed=1, users=20, threats=threats, countermeasures=countermeasures)
        loaded = time.perf_counter() - started
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    print(
        f"\n== {engine}: {threats:,} threats, {countermeasures:,} countermeasures "
        f"(seed-synthetic took {loaded:.1f} s; load average {_load()}) =="
    )
    return url, pg_name


def run(engine, threats, countermeasures, workdir: Path, urls: list[str], keep=None) -> None:
    url, pg_name = prepare(engine, workdir, threats, countermeasures, keep)
    try:
        rows = [_in_fresh_process(url, what) for what in ["baseline", *urls]]
        base = rows[0]["s"]
        print(
            f"{'export':<32} {'seconds':>8} {'× base':>7} {'CPU s':>6} {'MB out':>7} {'RSS +MB':>8}"
        )
        for r in rows:
            print(
                f"{r['what']:<32} {r['s']:>8} {r['s'] / base:>7.2f} {r['cpu']:>6} "
                f"{r['bytes'] / 1e6:>7.1f} {r['mb']:>8}"
            )
        print("(CPU s: the exporting process only; on PostgreSQL the server's work is apart)")
    finally:
        _drop(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--threats", type=int, default=100_000)
    parser.add_argument("--countermeasures", type=int, default=30_000)
    parser.add_argument(
        "--urls", default="/export/threats.csv,/export/threat-scores.csv,/export/threats.xlsx"
    )
    parser.add_argument(
        "--keep", help="a SQLite file or a PostgreSQL database name to fill once and reuse"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure_one(args.url, args.measure)))
        return
    with tempfile.TemporaryDirectory(prefix="frontline-bench-") as workdir:
        urls = args.urls.split(",")
        run(args.db, args.threats, args.countermeasures, Path(workdir), urls, args.keep)


if __name__ == "__main__":
    main()
