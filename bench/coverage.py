"""Benchmark the SPOF coverage page and the systems list at size (run by hand).

    .venv/bin/python -m bench.coverage [--systems 5000 --staff 2000 --responsibilities 20000]

Builds a private SQLite database in a temporary directory, fills it with
``seed-synthetic``, then times /coverage, /systems (plain, and filtered by coverage
state and sorted by people) and /staff over 50 requests each, beside /healthz, and
counts SQL statements per request. It repeats the run at 100 systems to show the
query count does not grow with the data.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.harness import measure, report, signed_in_client

EMAIL, PASSWORD = "bench@frontline.example", "bench-password-123"
URLS = [
    "/healthz",
    "/coverage",
    "/coverage?quarter=FY20-21 Q2",
    "/systems",
    "/systems?state=spof&sort=-people",
    "/systems?production=yes&criticality=HIGH&sort=-criticality",
    "/staff?sole=yes&sort=-sole",
]


def run(directory: Path, systems: int, staff: int, responsibilities: int, runs: int) -> list:
    from app import create_app
    from app.extensions import db
    from app.models.user import Role, User

    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{directory / f'bench-{systems}.db'}",
        FRONTLINE_TODAY="2021-01-15",
    )
    with app.app_context():
        db.create_all()
        user = User(email=EMAIL, name="Bench", role=Role.MANAGER)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    with app.app_context():
        result = app.test_cli_runner().invoke(
            args=[
                "seed-synthetic",
                "--users",
                "20",
                "--systems",
                str(systems),
                "--staff",
                str(staff),
                "--responsibilities",
                str(responsibilities),
                "--positions",
                "40",
                "--seed",
                "1",
            ]
        )
    if result.exit_code != 0:
        raise SystemExit(f"seed-synthetic failed: {result.output} {result.exception!r}")
    client = signed_in_client(app, EMAIL, PASSWORD)
    return [measure(app, client, url, runs) for url in URLS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, default=5000)
    parser.add_argument("--staff", type=int, default=2000)
    parser.add_argument("--responsibilities", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big = run(Path(tmp), args.systems, args.staff, args.responsibilities, args.runs)
        print(
            f"\n{args.systems} systems, {args.staff} staff, {args.responsibilities} "
            f"responsibilities ({args.runs} requests each, SQLite)"
        )
        report(big)
        small = run(Path(tmp), 100, 40, 400, args.runs)
        print("\n100 systems, 40 staff, 400 responsibilities")
        report(small)
    same = all(b["queries"] == s["queries"] for b, s in zip(big, small, strict=True))
    print(f"\nQueries per request identical at both sizes: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
