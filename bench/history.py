"""The dated-history pages against the code before dated states, in one run (run by hand).

    nice -n 10 .venv/bin/python -m bench.history                  # SQLite
    nice -n 10 .venv/bin/python -m bench.history --db postgresql  # 127.0.0.1:5432
    .venv/bin/python -m bench.history --threats 1000 --countermeasures 300 --responsibilities 200

The baseline is commit 0922001 (the last commit before threat status, archival and reviews
became dated facts), checked out as a detached ``git worktree`` beside this one. One register
is generated once per engine by the baseline's ``seed-synthetic`` (100,000 threats, 30,000
countermeasures, 20,000 responsibilities by default) and kept in --cache; a copy is migrated
to this code's head, so both sides read the same register, the current one through the
migration that turns statuses into dated facts. Each side runs in its own process (the two
``app`` packages cannot share one interpreter); the driver asks them in turn, a few requests
each, for every page, so machine noise falls on both alike. Printed per page: the medians,
current / baseline, and SQL statements per request on each side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
BASELINE = "0922001"
PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
EMAIL, PASSWORD = "bench-history@bench.example", "bench-password-123"
TODAY = "2021-01-15"
URLS = [
    "/threats",
    "/threats?sort=-residual",
    "/threats?overdue=1&sort=review",
    "/heatmap",
    "/heatmap?kind=inherent&quarter=FY20-21 Q1",
    "/threats?kind=residual&l=3&i=4&as_of=2020-09-30",
    "/coverage",
    "/coverage?quarter=FY20-21 Q1",
    "/systems",
    "/systems?state=spof&sort=-people",
    "/quarters/FY20-21 Q2",
    "/quarters/FY20-21 Q1",
]


# ---- worker side: runs inside one code tree ----------------------------------------------


def _app(url: str):
    from app import create_app

    app = create_app(
        "development",
        SQLALCHEMY_DATABASE_URI=url,
        FRONTLINE_TODAY=TODAY,
        WTF_CSRF_ENABLED=False,
    )
    app.config["RATELIMIT_ENABLED"] = False
    return app


def build(url: str, sizes: dict) -> None:
    """Migrate an empty database and fill it (run in the baseline tree)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db
    from app.models.audit import set_cli_actor
    from app.models.user import Role, User
    from app.seed.synthetic import fill

    app = _app(url)
    with app.app_context():
        upgrade()
        set_cli_actor(None, "bench")
        user = User(email=EMAIL, name="Bench History", role=Role.ADMIN)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        fill(seed=1, users=20, positions=40, **sizes)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # the last connection out folds SQLite's WAL into the file


def migrate(url: str) -> None:
    """Bring a copy of the baseline register to this tree's head."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db

    app = _app(url)
    with app.app_context():
        upgrade()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # the last connection out folds SQLite's WAL into the file


def serve(url: str) -> None:
    """Answer {"url", "runs"} lines with the timings and SQL statements of those requests."""
    import time

    from sqlalchemy import event

    from app.extensions import db

    app = _app(url)
    client = app.test_client()
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"could not sign in: {response.status_code}")
    with app.app_context():
        engine = db.engine
    counter = {"n": 0}

    def count(*args, **kwargs):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    out = sys.stdout
    sys.stdout = sys.stderr  # progress and warnings never mix with the answers
    print(json.dumps({"ready": True}), file=out, flush=True)
    for line in sys.stdin:
        ask = json.loads(line)
        timings, status = [], 200
        counter["n"] = 0
        for _ in range(ask["runs"]):
            started = time.perf_counter()
            response = client.get(ask["url"])
            timings.append((time.perf_counter() - started) * 1000)
            status = response.status_code if response.status_code != 200 else status
        answer = {"timings": timings, "queries": counter["n"] / ask["runs"], "status": status}
        print(json.dumps(answer), file=out, flush=True)


def worker_main(argv: list[str]) -> None:
    # The tree to import ``app`` from comes first on the path; cwd is that tree too.
    mode, root, url = argv[0], argv[1], argv[2]
    sys.path.insert(0, root)
    os.chdir(root)
    if mode == "build":
        build(url, json.loads(argv[3]))
    elif mode == "migrate":
        migrate(url)
    else:
        serve(url)


# ---- driver side ---------------------------------------------------------------------------


def _python() -> str:
    return str(HERE / ".venv" / "bin" / "python")


def _worker(mode: str, root: Path, url: str, *extra: str, **kwargs):
    args = [_python(), str(Path(__file__).resolve()), "--worker", mode, str(root), url, *extra]
    env = dict(os.environ, FRONTLINE_INSTANCE=f"/tmp/frontline-bench-history-instance-{root.name}")
    return args, env


def _run(mode: str, root: Path, url: str, *extra: str) -> None:
    args, env = _worker(mode, root, url, *extra)
    subprocess.run(args, env=env, cwd=root, check=True)


def baseline_tree(cache: Path) -> Path:
    tree = cache / f"tree-{BASELINE}"
    if not (tree / "app").exists():
        subprocess.run(
            ["git", "-C", str(HERE), "worktree", "add", "--detach", str(tree), BASELINE],
            check=True,
        )
    venv = tree / ".venv"
    if not venv.exists():
        venv.symlink_to((HERE / ".venv").resolve())
    return tree


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _pg_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        return bool(
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        )


def _vacuum(name: str) -> None:
    # Fresh tables have no visibility map yet: index-only scans would read the heap, as
    # they would not once autovacuum has passed. Both sides are vacuumed alike.
    import psycopg

    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def databases(engine: str, cache: Path, tree: Path, sizes: dict) -> tuple[str, str]:
    """The baseline and current database URLs, generated and migrated once and then reused."""
    tag = f"{sizes['threats']}_{sizes['countermeasures']}_{sizes['responsibilities']}"
    if engine == "sqlite":
        base, current = cache / f"base-{tag}.db", cache / f"current-{tag}.db"
        if not base.exists():
            partial = cache / f"partial-{tag}.db"
            partial.unlink(missing_ok=True)
            _run("build", tree, f"sqlite:///{partial}", json.dumps(sizes))
            partial.rename(base)
        if not current.exists():
            partial = cache / f"partial-current-{tag}.db"
            shutil.copyfile(base, partial)
            _run("migrate", HERE, f"sqlite:///{partial}")
            partial.rename(current)
        else:
            _run("migrate", HERE, f"sqlite:///{current}")  # migrations added since
        return f"sqlite:///{base}", f"sqlite:///{current}"
    server = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    base_db, current_db = f"frontline_hist_base_{tag}", f"frontline_hist_current_{tag}"
    if not _pg_exists(base_db):
        _pg(f'DROP DATABASE IF EXISTS "{base_db}_partial" WITH (FORCE)')
        _pg(f'CREATE DATABASE "{base_db}_partial"')
        _run("build", tree, f"{server}/{base_db}_partial", json.dumps(sizes))
        _pg(f'ALTER DATABASE "{base_db}_partial" RENAME TO "{base_db}"')
    if not _pg_exists(current_db):
        _pg(f'DROP DATABASE IF EXISTS "{current_db}_partial" WITH (FORCE)')
        _pg(f'CREATE DATABASE "{current_db}_partial" TEMPLATE "{base_db}"')
        _run("migrate", HERE, f"{server}/{current_db}_partial")
        _pg(f'ALTER DATABASE "{current_db}_partial" RENAME TO "{current_db}"')
    else:
        _run("migrate", HERE, f"{server}/{current_db}")  # migrations added since
    _vacuum(base_db)
    _vacuum(current_db)
    return f"{server}/{base_db}", f"{server}/{current_db}"


class Side:
    def __init__(self, root: Path, url: str):
        args, env = _worker("serve", root, url)
        self.proc = subprocess.Popen(
            args, env=env, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.send, self.answers = self.proc.stdin, self.proc.stdout
        assert json.loads(self.answers.readline())["ready"]

    def ask(self, url: str, runs: int) -> dict:
        self.send.write(json.dumps({"url": url, "runs": runs}) + "\n")
        self.send.flush()
        return json.loads(self.answers.readline())

    def close(self) -> None:
        self.send.close()
        self.proc.wait()


def compare(base: Side, current: Side, urls: list[str], rounds: int, per_round: int) -> list:
    rows = []
    for url in urls:
        base.ask(url, 1), current.ask(url, 1)  # warm caches and compiled templates
        times: dict[str, list[float]] = {"base": [], "current": []}
        queries: dict[str, float] = {}
        status: dict[str, int] = {}
        for turn in range(rounds):
            # Alternate who goes first, so neither side always follows the other's work.
            order = [("base", base), ("current", current)]
            for name, side in order if turn % 2 == 0 else reversed(order):
                answer = side.ask(url, per_round)
                times[name] += answer["timings"]
                queries[name] = answer["queries"]
                status[name] = answer["status"]
        b, c = statistics.median(times["base"]), statistics.median(times["current"])
        # The fastest of each side too: on a shared machine the median carries the load
        # of whatever else runs, the fastest request is closer to the page's own cost.
        b_min, c_min = min(times["base"]), min(times["current"])
        rows.append(
            {
                "url": url,
                "base_ms": round(b, 1),
                "current_ms": round(c, 1),
                "ratio": round(c / b, 2),
                "base_min": round(b_min, 1),
                "current_min": round(c_min, 1),
                "min_ratio": round(c_min / b_min, 2),
                "base_q": queries["base"],
                "current_q": queries["current"],
                "status": f"{status['base']}/{status['current']}",
            }
        )
        print_row(rows[-1], flush=True)
    return rows


def print_header(engine: str, sizes: dict) -> None:
    print(
        f"\n== {engine}: {sizes['threats']:,} threats, {sizes['countermeasures']:,} "
        f"countermeasures, {sizes['responsibilities']:,} responsibilities; "
        f"baseline {BASELINE} =="
    )
    print(
        f"{'url':<52} {'base ms':>9} {'now ms':>9} {'ratio':>6} {'base q':>7} {'now q':>6} "
        f"{'status':<8} {'fastest base/now ms':>20} {'ratio':>6}"
    )


def print_row(r: dict, flush: bool = False) -> None:
    print(
        f"{r['url']:<52} {r['base_ms']:>9} {r['current_ms']:>9} {r['ratio']:>6} "
        f"{r['base_q']:>7g} {r['current_q']:>6g} {r['status']:<8} "
        f"{str(r['base_min']) + ' / ' + str(r['current_min']):>20} {r['min_ratio']:>6}",
        flush=flush,
    )


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        worker_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--threats", type=int, default=100_000)
    parser.add_argument("--countermeasures", type=int, default=30_000)
    parser.add_argument("--responsibilities", type=int, default=20_000)
    parser.add_argument("--systems", type=int, default=5_000)
    parser.add_argument("--staff", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=6, help="turns each side takes per page")
    parser.add_argument("--per-round", type=int, default=3, help="requests per turn")
    parser.add_argument("--only", default="", help="comma-separated URL prefixes to measure")
    parser.add_argument("--cache", default="/tmp/frontline-bench-history")
    parser.add_argument(
        "--current-tree",
        default=str(HERE),
        help="measure this checkout as the current side (on the database migrated here)",
    )
    args = parser.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    sizes = {
        "threats": args.threats,
        "countermeasures": args.countermeasures,
        "responsibilities": args.responsibilities,
        "systems": args.systems,
        "staff": args.staff,
    }
    tree = baseline_tree(cache)
    base_url, current_url = databases(args.db, cache, tree, sizes)
    urls = [u for u in URLS if not args.only or any(u.startswith(p) for p in args.only.split(","))]
    base, current = Side(tree, base_url), Side(Path(args.current_tree), current_url)
    try:
        print_header(args.db, sizes)
        rows = compare(base, current, urls, args.rounds, args.per_round)
    finally:
        base.close()
        current.close()
    slow = [r["url"] for r in rows if r["ratio"] > 1.3]
    more = [r["url"] for r in rows if r["current_q"] > r["base_q"]]
    print(f"\nWithin 1.3x of the baseline: {'yes' if not slow else 'NO: ' + ', '.join(slow)}")
    verdict = "yes" if not more else "NO: " + ", ".join(more)
    print(f"Query counts at or below the baseline's: {verdict}")


if __name__ == "__main__":
    main()
