"""Benchmark of the catalogues: importing an ATT&CK-sized bundle, and the matrix at size.

Run by hand (never from pytest):

    .venv/bin/python -m bench.catalogues                  # SQLite, 100,000 then 100 threats
    .venv/bin/python -m bench.catalogues --db postgresql  # a private database on :5432
    .venv/bin/python -m bench.catalogues --sizes 1000 --techniques 200

1. Import: a synthetic STIX 2.1 bundle shaped like MITRE's enterprise-attack.json
   (14 tactics, ~600 techniques and ~200 sub-techniques with subtechnique-of
   relationships, mitigations, 700 software objects and 15,000 "uses" relationships, about
   the object count of the real bundle), imported through the
   same function as ``flask catalogue import``, then a second version (a few techniques
   revoked, renamed, added) that keeps the mappings and reports what changed.
2. The ATT&CK matrix page with N threats (``seed-synthetic --threats N``), each mapped to
   one or two techniques, and countermeasures mapped to techniques: median and p95 over
   50 requests with the figure remembered (the usual case) and with it recomputed on
   every request (``figure_cache.clear()``), and SQL statements per request, beside
   /healthz. Repeated at a small size to show the query count does not grow.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.harness import count_queries, measure, report, signed_in_client
from bench.threats import _database, _drop

EMAIL = "bench-security@bench.example"
PASSWORD = "bench-password-123"
TACTICS = [
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
]
NS = uuid.UUID("0b7e4c5e-8f69-4a52-b0f4-5a2d86f3c1e7")


def _id(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(NS, key)}"


def synthetic_bundle(techniques: int, subs: int, version: int = 1, seed: int = 1) -> bytes:
    """An enterprise-attack-like bundle; version 2 revokes 5, renames 5 and adds 10."""
    rng = random.Random(seed)
    stamp = "2024-01-01T00:00:00.000Z" if version == 1 else "2024-06-01T00:00:00.000Z"
    ident = _id("identity", "mitre")
    objects: list[dict] = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": ident,
            "created": stamp,
            "modified": stamp,
            "name": "The MITRE Corporation",
            "identity_class": "organization",
        }
    ]
    tactic_ids = []
    for n, short in enumerate(TACTICS):
        ref = f"TA{n + 1:04d}"
        tactic_ids.append(_id("x-mitre-tactic", ref))
        objects.append(
            {
                "type": "x-mitre-tactic",
                "spec_version": "2.1",
                "id": tactic_ids[-1],
                "created": stamp,
                "modified": stamp,
                "name": short.replace("-", " ").title(),
                "description": f"The adversary's {short} goal.",
                "x_mitre_shortname": short,
                "external_references": [
                    {"source_name": "mitre-attack", "external_id": ref, "url": f"https://x/{ref}"}
                ],
            }
        )
    objects.append(
        {
            "type": "x-mitre-matrix",
            "spec_version": "2.1",
            "id": _id("x-mitre-matrix", "enterprise"),
            "created": stamp,
            "modified": stamp,
            "name": "Enterprise ATT&CK",
            "description": "Synthetic",
            "tactic_refs": tactic_ids,
        }
    )
    count = techniques + (10 if version == 2 else 0)
    parents = []
    for n in range(count):
        ref = f"T{1000 + n}"
        parents.append(ref)
        pattern = {
            "type": "attack-pattern",
            "spec_version": "2.1",
            "id": _id("attack-pattern", ref),
            "created": stamp,
            "modified": stamp,
            "created_by_ref": ident,
            "name": f"Technique {n}" + (" (renamed)" if version == 2 and n % 120 == 7 else ""),
            "description": "A synthetic technique. " * rng.randint(5, 40),
            "kill_chain_phases": [
                {"kill_chain_name": "mitre-attack", "phase_name": p}
                for p in rng.sample(TACTICS, rng.choice((1, 1, 1, 2, 3)))
            ],
            "external_references": [
                {"source_name": "mitre-attack", "external_id": ref, "url": f"https://x/{ref}"}
            ],
            "x_mitre_is_subtechnique": False,
            "x_mitre_platforms": ["Windows", "Linux"],
        }
        if version == 2 and n % 120 == 3:
            pattern["revoked"] = True
        objects.append(pattern)
    for n in range(subs):
        parent = parents[n % techniques]
        ref = f"{parent}.{n // techniques + 1:03d}"
        sub = _id("attack-pattern", ref)
        objects.append(
            {
                "type": "attack-pattern",
                "spec_version": "2.1",
                "id": sub,
                "created": stamp,
                "modified": stamp,
                "name": f"Sub-technique {ref}",
                "description": "A synthetic sub-technique.",
                "kill_chain_phases": [
                    {"kill_chain_name": "mitre-attack", "phase_name": "execution"}
                ],
                "external_references": [{"source_name": "mitre-attack", "external_id": ref}],
                "x_mitre_is_subtechnique": True,
            }
        )
        objects.append(
            {
                "type": "relationship",
                "spec_version": "2.1",
                "id": _id("relationship", ref),
                "created": stamp,
                "modified": stamp,
                "relationship_type": "subtechnique-of",
                "source_ref": sub,
                "target_ref": _id("attack-pattern", parent),
            }
        )
    for n in range(300):
        mitigation = _id("course-of-action", f"M{n}")
        objects.append(
            {
                "type": "course-of-action",
                "spec_version": "2.1",
                "id": mitigation,
                "created": stamp,
                "modified": stamp,
                "name": f"Mitigation {n}",
                "description": "A synthetic mitigation.",
            }
        )
        for target in rng.sample(parents[:techniques], 8):
            objects.append(
                {
                    "type": "relationship",
                    "spec_version": "2.1",
                    "id": _id("relationship", f"M{n}-{target}"),
                    "created": stamp,
                    "modified": stamp,
                    "relationship_type": "mitigates",
                    "source_ref": mitigation,
                    "target_ref": _id("attack-pattern", target),
                }
            )
    # The bulk of MITRE's bundle: software and the techniques it uses (not read).
    software = [_id("malware", f"S{n}") for n in range(700)]
    for n, sid in enumerate(software):
        objects.append(
            {
                "type": "malware",
                "spec_version": "2.1",
                "id": sid,
                "created": stamp,
                "modified": stamp,
                "name": f"Software {n}",
                "is_family": True,
                "description": "Synthetic software. " * rng.randint(5, 30),
            }
        )
    for n in range(15_000):
        objects.append(
            {
                "type": "relationship",
                "spec_version": "2.1",
                "id": _id("relationship", f"uses-{n}"),
                "created": stamp,
                "modified": stamp,
                "relationship_type": "uses",
                "description": "Synthetic use of a technique by software.",
                "source_ref": rng.choice(software),
                "target_ref": _id("attack-pattern", rng.choice(parents[:techniques])),
            }
        )
    objects.append(
        {
            "type": "x-mitre-collection",
            "spec_version": "2.1",
            "id": _id("x-mitre-collection", "enterprise"),
            "created": stamp,
            "modified": stamp,
            "name": "Enterprise ATT&CK",
            "description": "Synthetic",
            "x_mitre_version": f"{14 + version}.0",
        }
    )
    bundle = {"type": "bundle", "id": _id("bundle", f"v{version}"), "objects": objects}
    return json.dumps(bundle).encode()


def _map_register(rng: random.Random, library_id: int) -> None:
    """Each threat mapped to one or two techniques, each countermeasure to one to three."""
    from datetime import date

    from sqlalchemy import insert, select

    from app.catalogues.libraries import current_version_id
    from app.extensions import db
    from app.models.catalogues import (
        CatalogueEntry,
        CountermeasureMapping,
        EntryKind,
        ThreatMapping,
    )
    from app.models.countermeasures import Countermeasure
    from app.models.threats import Threat

    refs = list(
        db.session.scalars(
            select(CatalogueEntry.ref).where(
                CatalogueEntry.version_id == current_version_id(library_id),
                CatalogueEntry.kind.in_([EntryKind.TECHNIQUE, EntryKind.SUB_TECHNIQUE]),
                CatalogueEntry.revoked.is_(False),
            )
        )
    )
    threats = db.session.execute(select(Threat.id, Threat.identified_on)).all()
    rows = []
    for threat_id, identified_on in threats:
        for ref in rng.sample(refs, rng.choice((1, 2))):
            rows.append(
                {
                    "threat_id": threat_id,
                    "library_id": library_id,
                    "ref": ref,
                    "mapped_on": identified_on,
                    "unmapped_on": date(2020, 11, 1) if rng.random() < 0.05 else None,
                }
            )
    for start in range(0, len(rows), 10_000):
        db.session.execute(insert(ThreatMapping), rows[start : start + 10_000])
    cms = db.session.execute(select(Countermeasure.id, Countermeasure.planned_on)).all()
    rows = [
        {
            "countermeasure_id": cm_id,
            "library_id": library_id,
            "ref": ref,
            "mapped_on": planned_on,
        }
        for cm_id, planned_on in cms
        for ref in rng.sample(refs, rng.choice((1, 2, 3)))
    ]
    for start in range(0, len(rows), 10_000):
        db.session.execute(insert(CountermeasureMapping), rows[start : start + 10_000])
    db.session.commit()


def bench_import(app, techniques: int, subs: int) -> None:
    from datetime import date

    from app.catalogues.libraries import import_library
    from app.extensions import db

    first, second = synthetic_bundle(techniques, subs), synthetic_bundle(techniques, subs, 2)
    objects = len(json.loads(first)["objects"])
    with app.app_context():
        timings = []
        for data, name in ((first, "v1.json"), (second, "v2.json")):
            started = time.perf_counter()
            result = import_library(data, name, on=date(2021, 1, 15))
            entries, changes = result.version.entry_count, result.changes.summary()
            db.session.commit()
            timings.append((time.perf_counter() - started, entries, changes))
    (t1, entries, _), (t2, _, changes) = timings
    print(
        f"\n== import: {objects:,} STIX objects ({len(first) / 1e6:.1f} MB), {entries:,} entries =="
    )
    print(f"first version   {t1:6.2f} s")
    print(f"second version  {t2:6.2f} s   ({changes})")


def _uncached(app, client, url: str, runs: int = 20) -> dict:
    from app import figure_cache

    timings = []
    with count_queries(app) as counter:
        for _ in range(runs):
            figure_cache.clear()
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        queries = counter["n"] / runs
    timings.sort()
    return {
        "url": url + " (recomputed)",
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1),
        "queries": round(queries, 1),
    }


def run(
    engine: str, size: int, workdir: Path, techniques: int, subs: int, keep: bool = False
) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from app.models.audit import set_cli_actor
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
        bench_import(app, techniques, subs)
        with app.app_context():
            from sqlalchemy import select

            from app.models.catalogues import Library

            library_id = db.session.scalars(select(Library.id)).one()
            started = time.perf_counter()
            fill(seed=1, users=20, threats=size, countermeasures=max(10, size // 50))
            _map_register(random.Random(2), library_id)
            loaded = time.perf_counter() - started
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            db.session.remove()
        print(f"\n== {engine}: {size:,} threats, mapped (loading took {loaded:.1f} s) ==")
        client = signed_in_client(app, EMAIL, PASSWORD)
        matrix = f"/catalogues/{library_id}/matrix"
        urls = ["/healthz", matrix, matrix + "?quarter=FY20-21 Q2", matrix + "?quarter=FY20-21 Q1"]
        rows = [measure(app, client, u) for u in urls]
        rows += [_uncached(app, client, matrix + "?quarter=FY20-21 Q2")]
        rows += [_uncached(app, client, matrix)]
        report(rows)
        with app.app_context():
            db.engine.dispose()
    finally:
        if keep:
            print(f"kept the database: {url}")
        else:
            _drop(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--sizes", default="100000,100", help="comma-separated threat counts")
    parser.add_argument("--techniques", type=int, default=600)
    parser.add_argument("--sub-techniques", type=int, default=200)
    parser.add_argument(
        "--keep", action="store_true", help="keep the databases, to profile them afterwards"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.keep:
        workdir = tempfile.mkdtemp(prefix="frontline-bench-")
        for size in sizes:
            run(args.db, size, Path(workdir), args.techniques, args.sub_techniques, keep=True)
        return
    with tempfile.TemporaryDirectory(prefix="frontline-bench-") as workdir:
        for size in sizes:
            run(args.db, size, Path(workdir), args.techniques, args.sub_techniques)


if __name__ == "__main__":
    main()
