"""Shared benchmark harness: time pages over HTTP-less test requests and count SQL queries.

Used by the bench/*.py scripts; run them by hand, never from the test suite.
Each measurement signs in once, then requests a URL N times through the app's test
client (no network noise) and reports median, p95 and SQL statements per request,
beside /healthz measured in the same run as the floor.
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db


@contextmanager
def count_queries(app):
    counter = {"n": 0}

    def before_cursor_execute(*args, **kwargs):
        counter["n"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


def signed_in_client(app, email: str, password: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    if response.status_code != 302:
        raise SystemExit(f"could not sign in as {email}: {response.status_code}")
    return client


def measure(app, client, url: str, runs: int = 50) -> dict:
    client.get(url)  # warm caches and compiled templates once
    timings = []
    with count_queries(app) as counter:
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        queries = counter["n"] / runs
    timings.sort()
    return {
        "url": url,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1),
        "queries": round(queries, 1),
    }


def report(rows: list[dict]) -> None:
    width = max(len(r["url"]) for r in rows)
    print(f"{'url':<{width}}  {'median ms':>10}  {'p95 ms':>8}  {'queries':>8}")
    for r in rows:
        print(f"{r['url']:<{width}}  {r['median_ms']:>10}  {r['p95_ms']:>8}  {r['queries']:>8}")
