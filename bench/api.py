"""Benchmark of the API at register scale: walking every threat, and an incremental sync.

Run by hand (never from pytest), once, with ``nice``:

    nice .venv/bin/python -m bench.api                  # SQLite, 100,000 threats
    nice .venv/bin/python -m bench.api --db postgresql  # a private database on 127.0.0.1
    nice .venv/bin/python -m bench.api --threats 10000

A fresh database is filled (``seed-synthetic``); then, with a bearer token, through the
app's test client: every threat walked with keyset pages at per_page=1000 (time of the
first and the last page, and of the whole walk), the last numbered page for comparison,
then 10 threats changed and a sync (``updated_since`` the walk's ``synced_at``) that must
fetch those 10 and nothing else.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.export import _app, prepare
from bench.threats import EMAIL, _drop


def _timed(client, url: str, headers: dict):
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
    return response.json, elapsed


def run(engine, threats, countermeasures, workdir: Path, keep=None) -> None:
    from sqlalchemy import select

    from app.auth.tokens import create_token
    from app.extensions import db
    from app.models.threats import Threat
    from app.models.user import User

    url, pg_name = prepare(engine, workdir, threats, countermeasures, keep)
    try:
        app = _app(url)
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == EMAIL))
            _, secret = create_token(user, "bench")
            db.session.commit()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {secret}"}
        _timed(client, "/api/v1/threats?per_page=10", headers)  # warm up

        started, cpu_started = time.perf_counter(), time.process_time()
        url, pages, items, timings, synced_at = (
            "/api/v1/threats?per_page=1000&after=0",
            0,
            0,
            [],
            None,
        )
        while url:
            body, elapsed = _timed(client, url, headers)
            synced_at = synced_at or body["synced_at"]
            timings.append((elapsed, len(body["items"])))
            pages += 1
            items += len(body["items"])
            url = body["next"]
        walk, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        print(
            f"keyset walk, per_page=1000: {items:,} threats in {pages} pages, {walk:.2f} s "
            f"(this process's CPU {cpu:.2f} s: the app and its client, not the database server)"
        )
        full = [t for t, n in timings if n == 1000]
        print(
            f"  first page {full[0] * 1000:.0f} ms, last full page {full[-1] * 1000:.0f} ms "
            f"(last/first {full[-1] / full[0]:.2f}), median "
            f"{sorted(full)[len(full) // 2] * 1000:.0f} ms, fastest {min(full) * 1000:.0f} ms"
        )
        slowest = sorted(t for t, _ in timings)
        print(
            f"  pages' own time {sum(slowest):.2f} s; slowest pages "
            + ", ".join(f"{t * 1000:.0f}" for t in slowest[-3:])
            + " ms (a page waiting for the CPU on a busy machine shows here)"
        )
        _, first_numbered = _timed(client, "/api/v1/threats?per_page=1000&page=1", headers)
        _, last_numbered = _timed(client, f"/api/v1/threats?per_page=1000&page={pages}", headers)
        print(
            f"numbered pages for comparison: page 1 {first_numbered * 1000:.0f} ms, "
            f"page {pages} {last_numbered * 1000:.0f} ms"
        )

        with app.app_context():
            ids = db.session.scalars(
                select(Threat).where(Threat.archived_at.is_(None)).order_by(Threat.id).limit(10)
            ).all()
            for threat in ids:
                threat.title = threat.title + " (changed)"
            changed = {t.id for t in ids}
            db.session.commit()
        started = time.perf_counter()
        since = urlencode({"updated_since": synced_at})
        url, fetched = f"/api/v1/threats?per_page=1000&after=0&include_archived=1&{since}", []
        while url:
            body, _ = _timed(client, url, headers)
            fetched += [t["id"] for t in body["items"]]
            url = body["next"]
        sync = time.perf_counter() - started
        verdict = "only those" if set(fetched) == changed else "MISMATCH"
        print(f"sync after 10 changes: fetched {len(fetched)} threats ({verdict}) in {sync:.3f} s")
        with app.app_context():
            db.engine.dispose()
    finally:
        _drop(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--threats", type=int, default=100_000)
    parser.add_argument("--countermeasures", type=int, default=30_000)
    parser.add_argument(
        "--keep", help="a SQLite file or a PostgreSQL database name to fill once and reuse"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="frontline-bench-") as workdir:
        run(args.db, args.threats, args.countermeasures, Path(workdir), args.keep)


if __name__ == "__main__":
    main()
