"""Benchmark: the quarterly report and its full-register appendix, at size and on the demo.

    .venv/bin/python -m bench.report [--db postgresql] [--fresh] [--quarter "FY20-21 Q2"]

Three databases, each in its own instance directory under bench/results (SQLite) or its
own PostgreSQL database (``--db postgresql``): the demo, a 1,000-threat register and the
issue's size (100,000 threats, 30,000 countermeasures, 5,000 systems, 20,000
responsibilities). ``--fresh`` (re)builds them with ``seed-demo`` / ``seed-synthetic``.

Every measurement runs in a new process (``--worker``) so that no figure cache carries
over; the process start (interpreter, imports, ``create_app``) is timed apart from the
report itself (gathering, then laying out), and the peak memory is the worker's maximum
resident set. The 100,000-threat report is compared with the demo report measured in the
same run; the appendix is timed at 1,000 to 100,000 rows of the large register to give
the time per 1,000 rows.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
LARGE = {
    "--threats": 100_000,
    "--countermeasures": 30_000,
    "--systems": 5_000,
    "--staff": 2_000,
    "--responsibilities": 20_000,
}
SMALL = {"--threats": 1_000, "--countermeasures": 300}
CURVE = (1_000, 10_000, 25_000, 50_000, 100_000)


def _env(name: str, engine: str) -> dict:
    env = dict(os.environ)
    env["FRONTLINE_INSTANCE"] = str(ROOT / "bench" / "results" / f"instance-report-{name}")
    env["FRONTLINE_TODAY"] = "2021-01-15"
    if engine == "postgresql":
        env["DATABASE_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:5432/bench_report_{name}"
    else:
        env.pop("DATABASE_URL", None)
    Path(env["FRONTLINE_INSTANCE"]).mkdir(parents=True, exist_ok=True)
    return env


def _flask(*args: str, env: dict) -> None:
    subprocess.run([*FLASK, *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def fill(name: str, env: dict, sizes: dict | None) -> None:
    if "DATABASE_URL" in env:
        database = env["DATABASE_URL"].rsplit("/", 1)[1]
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database])
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(env["FRONTLINE_INSTANCE"], f"frontline.db{suffix}").unlink(missing_ok=True)
    _flask("db", "upgrade", env=env)
    if sizes is None:
        _flask("seed-demo", env=env)
    else:
        options = [str(part) for pair in sizes.items() for part in pair]
        _flask("seed-synthetic", "--seed", "1", *options, env=env)


def analyze(env: dict) -> None:
    """Fresh planner statistics (tables added by migrations after the seed have none); on
    PostgreSQL a VACUUM too, as autovacuum would have run on a database in use: a freshly
    bulk-loaded one has no visibility map, so every index-only scan reads the table."""
    code = (
        "from app import create_app\n"
        "from app.extensions import db\n"
        "from sqlalchemy import text\n"
        "with create_app().app_context():\n"
        "    if db.engine.dialect.name == 'postgresql':\n"
        "        with db.engine.connect() as c:\n"
        "            c.execution_options(isolation_level='AUTOCOMMIT')"
        ".execute(text('VACUUM ANALYZE'))\n"
        "    else:\n"
        "        db.session.execute(text('ANALYZE'))\n"
        "        db.session.commit()\n"
    )
    subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, check=True)


def ensure_objective(quarter: str) -> None:
    """The synthetic data has no OKRs: add Front Line Defenses with the demo's linked KRs."""
    from datetime import date

    from sqlalchemy import select

    from app.domain.quarters import parse_quarter
    from app.extensions import db
    from app.models.okrs import KeyResult, Objective

    fy = parse_quarter(quarter).fiscal_year
    found = db.session.scalar(
        select(Objective.id).where(
            Objective.title == "Front Line Defenses", Objective.fiscal_year == fy
        )
    )
    if found is not None:
        return
    objective = Objective(title="Front Line Defenses", statement="Benchmark", fiscal_year=fy)
    objective.key_results += [
        KeyResult(code="KR1", statement="Second EU data center", goal_text="Two"),
        KeyResult(
            code="KR2",
            statement="SPOF positions",
            goal_value=4,
            metric="spof_positions_filled",
        ),
        KeyResult(
            code="KR3",
            statement="Countermeasures",
            goal_value=6,
            metric="countermeasures_deployed_to_date",
            baseline_quarter_start=date(fy, 7, 1),
        ),
    ]
    db.session.add(objective)
    db.session.commit()


def worker(quarter: str, appendix: int | None) -> None:
    """One measurement in this process: JSON on stdout."""
    import resource

    started = time.perf_counter()
    cpu_started = time.process_time()
    sys.path.insert(0, str(ROOT))
    from app import create_app, fiscal
    from app.domain.quarters import parse_quarter
    from app.reports.appendix import register_appendix
    from app.reports.pdf import build_report_pdf
    from app.reports.quarter_report import gather_quarter_report
    from app.reports.service import objective_by_title

    app = create_app()
    with app.app_context():
        ensure_objective(quarter)
        server = _server_cpu_reader()
        server_ready = server()
        ready = time.perf_counter()
        cpu_ready = time.process_time()
        today = fiscal.today()
        q = parse_quarter(quarter)
        objective = objective_by_title("Front Line Defenses", q.fiscal_year)
        report = gather_quarter_report(objective, q, today)
        gathered = time.perf_counter()
        extra = register_appendix(report.as_of, appendix) if appendix else None
        pdf = build_report_pdf(report, today, "Internal", appendix=extra)
        built = time.perf_counter()
        cpu_built = time.process_time()
        server_built = server()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "start_s": ready - started,
                "gather_s": gathered - ready,
                "layout_s": built - gathered,
                "report_s": built - ready,
                "report_cpu_s": cpu_built - cpu_ready,
                # The database server's own CPU for the report (PostgreSQL; 0 for SQLite,
                # whose work is in the process's CPU already).
                "server_cpu_s": server_built - server_ready,
                "start_cpu_s": cpu_ready - cpu_started,
                "peak_mb": peak,
                "pages": len(re.findall(rb"/Type /Page[^s]", pdf)),
                "kb": len(pdf) / 1024,
                "rows": extra.total if extra else 0,
            }
        )
    )


def _server_cpu_reader():
    """A function giving the CPU seconds used so far by this session's PostgreSQL backend
    (read from /proc: the server runs on this machine), or 0 on SQLite. With the machine
    shared, wall time swings with the load; CPU time does not."""
    from sqlalchemy import text

    from app.extensions import db

    if db.engine.dialect.name != "postgresql":
        return lambda: 0.0
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    return read


def measure(env: dict, quarter: str, appendix: int | None = None) -> dict:
    args = [PYTHON, "-m", "bench.report", "--worker", "--quarter", quarter]
    if appendix:
        args += ["--appendix-rows", str(appendix)]
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _median(measurements: list[dict]) -> dict:
    return sorted(measurements, key=lambda m: m["report_s"])[len(measurements) // 2]


def _line(label: str, m: dict) -> str:
    return (
        f"| {label} | {m['report_s']:.2f} | {m['report_cpu_s'] + m['server_cpu_s']:.2f} | "
        f"{m['gather_s']:.2f} | {m['layout_s']:.2f} | {m['start_s']:.2f} | "
        f"{m['peak_mb']:.0f} | {m['pages']:,} |"
    )


def _cpu(m: dict) -> float:
    return m["report_cpu_s"] + m["server_cpu_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="rebuild the databases")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quarter", default="FY20-21 Q2")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--appendix-rows", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--skip-curve", action="store_true")
    parser.add_argument("--skip-appendix", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each report (median)")
    args = parser.parse_args()
    if args.worker:
        worker(args.quarter, args.appendix_rows)
        return
    envs = {name: _env(name, args.db) for name in ("demo", "small", "large")}
    if args.fresh:
        fill("demo", envs["demo"], None)
        fill("small", envs["small"], SMALL)
        fill("large", envs["large"], LARGE)
    for env in envs.values():
        analyze(env)
    print(f"engine {args.db}, {args.quarter}; seconds, MB; each a new process")
    print(
        "| report | total s | CPU s (process + database server) | gather s | layout s "
        "| process start s | peak MB | pages |"
    )
    print("|---|---|---|---|---|---|---|---|")
    # Demo and 100,000 threats measured in turn, ``--repeat`` times each, so a burst of load
    # from elsewhere on the machine falls on both; the median run of each is compared.
    runs: dict[str, list[dict]] = {"demo": [], "large": []}
    for _ in range(args.repeat):
        for name in runs:
            runs[name].append(measure(envs[name], args.quarter))
    demo, large = (_median(runs[name]) for name in ("demo", "large"))
    cpus = {name: sorted(_cpu(m) for m in runs[name])[len(runs[name]) // 2] for name in runs}
    print(_line(f"demo (median of {args.repeat})", demo))
    print(_line(f"100,000 threats (median of {args.repeat})", large))
    print(
        f"ratio 100,000 / demo: {large['report_s'] / demo['report_s']:.2f} wall, "
        f"{cpus['large'] / cpus['demo']:.2f} CPU (medians); every run's wall s: "
        + "; ".join(
            f"{name} " + ", ".join(f"{m['report_s']:.2f}" for m in runs[name]) for name in runs
        )
    )
    if args.skip_appendix:
        return
    small = measure(envs["small"], args.quarter, appendix=1_000_000)
    print(_line(f"1,000-threat register + appendix ({small['rows']:,} rows)", small))
    full = measure(envs["large"], args.quarter, appendix=1_000_000)
    print(_line(f"100,000 threats + appendix ({full['rows']:,} rows)", full))
    if args.skip_curve:
        return
    print(
        "\n| appendix rows | report + appendix s | appendix s | s per 1,000 rows "
        "| appendix CPU s per 1,000 rows | peak MB |"
    )
    print("|---|---|---|---|---|---|")
    for rows in CURVE:
        m = full if rows >= full["rows"] else measure(envs["large"], args.quarter, rows)
        extra = m["report_s"] - large["report_s"]
        extra_cpu = _cpu(m) - _cpu(large)
        per = 1000 / max(1, m["rows"])
        print(
            f"| {m['rows']:,} | {m['report_s']:.2f} | {extra:.2f} | {extra * per:.3f} | "
            f"{extra_cpu * per:.3f} | {m['peak_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
