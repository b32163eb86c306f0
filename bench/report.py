"""Benchmark: the quarterly report on a large synthetic register.

    .venv/bin/python bench/report.py [--fresh] [--quarter "FY20-21 Q2"]

Uses its own instance directory (bench/results/instance-report, SQLite) unless
FRONTLINE_INSTANCE or DATABASE_URL say otherwise. With --fresh it migrates and fills
the database with ``seed-synthetic`` at the issue's size (100,000 threats, 30,000
countermeasures, 5,000 systems, 20,000 responsibilities), adds the Front Line Defenses
objective if the synthetic data has none, then runs the report command under
``/usr/bin/time -v`` and prints wall time, peak memory, pages and size.
Targets: under 5 s and under 400 MB.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
SIZES = {
    "--threats": 100_000,
    "--countermeasures": 30_000,
    "--systems": 5_000,
    "--staff": 2_000,
    "--responsibilities": 20_000,
}


def _env() -> dict:
    env = dict(os.environ)
    env.setdefault("FRONTLINE_INSTANCE", str(ROOT / "bench" / "results" / "instance-report"))
    env.setdefault("FRONTLINE_TODAY", "2021-01-15")
    return env


def _flask(*args: str, env: dict) -> None:
    subprocess.run([*FLASK, *args], cwd=ROOT, env=env, check=True)


def fill(env: dict) -> None:
    database = Path(env["FRONTLINE_INSTANCE"]) / "frontline.db"
    if "DATABASE_URL" not in env and database.exists():
        database.unlink()
    _flask("db", "upgrade", env=env)
    supported = subprocess.run(
        [*FLASK, "seed-synthetic", "--help"], cwd=ROOT, env=env, capture_output=True, text=True
    ).stdout
    options = []
    for option, size in SIZES.items():
        if option in supported:
            options += [option, str(size)]
        else:
            print(f"!!! seed-synthetic has no {option} option: that part of the data is missing")
    _flask("seed-synthetic", *options, env=env)


def ensure_objective(env: dict, quarter: str) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import select

    from app import create_app
    from app.domain.quarters import parse_quarter
    from app.extensions import db
    from app.models.okrs import KeyResult, Objective

    app = create_app()
    with app.app_context():
        fy = parse_quarter(quarter).fiscal_year
        found = db.session.scalar(
            select(Objective.id).where(
                Objective.title == "Front Line Defenses", Objective.fiscal_year == fy
            )
        )
        if found is None:
            objective = Objective(
                title="Front Line Defenses", statement="Benchmark", fiscal_year=fy
            )
            for n, metric in enumerate(
                (None, "spof_positions_filled", "countermeasures_deployed_to_date")
            ):
                objective.key_results.append(
                    KeyResult(code=f"KR{n + 1}", statement=f"Key result {n + 1}", metric=metric)
                )
            db.session.add(objective)
            db.session.commit()


def run_report(env: dict, quarter: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "report.pdf"
        result = subprocess.run(
            [
                "/usr/bin/time",
                "-v",
                *FLASK,
                "report",
                "--objective",
                "Front Line Defenses",
                "--quarter",
                quarter,
                "--output",
                str(output),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise SystemExit(result.stdout + result.stderr)
        wall = re.search(r"Elapsed \(wall clock\) time.*: (.+)", result.stderr).group(1)
        peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)[1])
        import pypdf

        data = output.read_bytes()
        pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
        print(result.stdout.strip())
        print(f"wall time {wall}  peak memory {peak_kb / 1024:.0f} MB  ")
        print(f"{pages} pages, {len(data) / 1024:.0f} KB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="rebuild the synthetic database")
    parser.add_argument("--quarter", default="FY20-21 Q2")
    args = parser.parse_args()
    env = _env()
    Path(env["FRONTLINE_INSTANCE"]).mkdir(parents=True, exist_ok=True)
    if args.fresh:
        fill(env)
    ensure_objective(env, args.quarter)
    run_report(env, args.quarter)


if __name__ == "__main__":
    main()
