"""Synthetic data at size, inserted in bulk, reproducible from a seed."""

from __future__ import annotations

import random

import click
from sqlalchemy import insert, select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models.user import Role, User
from app.seed import countermeasures, coverage, threats


def chunks(rows: list[dict], size: int = 5000):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def bulk_insert(model, rows: list[dict], label: str) -> None:
    # Core inserts in chunks: the ORM unit of work is far too slow for 100,000 rows.
    with click.progressbar(length=len(rows), label=f"{label:<18}") as bar:
        for chunk in chunks(rows):
            db.session.execute(insert(model), chunk)
            bar.update(len(chunk))


def fill(seed: int, users: int, **sizes: int) -> None:
    rng = random.Random(seed)
    existing = set(db.session.scalars(select(User.email)))
    # One hash for all synthetic users: hashing thousands of passwords would dominate the run.
    password_hash = generate_password_hash("synthetic-password")
    roles = list(Role)
    rows = [
        {
            "email": f"user{i}@synthetic.example",
            "name": f"Synthetic User {i}",
            "role": rng.choice(roles),
            "password_hash": password_hash,
            "is_active_account": True,
            "session_version": 1,
        }
        for i in range(users)
        if f"user{i}@synthetic.example" not in existing
    ]
    bulk_insert(User, rows, "users")
    context = {"rng": rng}
    for step in SYNTHETIC_STEPS:
        step(context, sizes)
    db.session.commit()
    click.echo("Synthetic data loaded.")


# Each area appends a function (context, sizes) that reads its own --option from sizes.
SYNTHETIC_STEPS: list = [coverage.synthetic, threats.synthetic, countermeasures.synthetic]
