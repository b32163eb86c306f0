"""Time a 100,000-row threats CSV import on SQLite (run by hand: python bench/import.py [rows]).

Builds a throw-away database, 50 systems, a generated CSV (systems and tags on every row),
then imports it the way ``flask import threats`` does: check every row, write in bulk.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import System, Threat  # noqa: E402
from app.transfer.service import import_file  # noqa: E402

# isort: split
# The engine first: importing an area's csv module first runs into their cycle.
from app.threats.csv import THREAT_COLUMNS  # noqa: E402


def build_csv(rows: int, systems: list[str]) -> bytes:
    rng = random.Random(8)
    statuses = ["Identified", "Assessed", "In treatment", "Monitoring"]
    # The columns a file may leave out (scoring method, techniques) are left out.
    lines = [",".join(c.header for c in THREAT_COLUMNS if c.imported and not c.may_be_absent)]
    for i in range(rows):
        chosen = "; ".join(sorted(rng.sample(systems, 2)))
        # The register's rules hold: residual never above inherent.
        likelihood, impact = rng.randint(1, 5), rng.randint(1, 5)
        lines.append(
            f"Threat {i},Generated threat number {i},Category {i % 12},Internal finding,,,"
            f"{rng.choice(statuses)},Mitigate,,2020-{rng.randint(1, 12):02d}-15,,"
            f"{likelihood},{impact},{rng.randint(1, likelihood)},{rng.randint(1, impact)},"
            f"{chosen},tag{i % 40}; shared,,"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


def main(rows: int = 100_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/bench.db")
        with app.app_context():
            db.create_all()
            names = [f"System {n}" for n in range(50)]
            db.session.add_all(System(name=n) for n in names)
            db.session.commit()
            data = build_csv(rows, names)
            started = time.perf_counter()
            written = import_file("threats", data, None)
            db.session.commit()
            elapsed = time.perf_counter() - started
            assert db.session.query(Threat).count() == written == rows
            print(
                f"imported {written} threats ({len(data) / 1e6:.1f} MB) in {elapsed:.1f} s "
                f"on SQLite ({written / elapsed:,.0f} rows/s)"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
