"""One run at a time: a PostgreSQL advisory lock, or a lock row on SQLite."""

from __future__ import annotations

import os
import socket
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, insert, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.base import utcnow
from app.models.notifications import RunLock

# A lock row older than this is from a run that died without cleaning up.
STALE_AFTER = timedelta(hours=2)


class RunBusyError(RuntimeError):
    """Another run holds the lock."""


def _key(name: str) -> int:
    return zlib.crc32(f"frontline:{name}".encode())


@contextmanager
def run_lock(name: str) -> Iterator[None]:
    if db.engine.dialect.name == "postgresql":
        # Held on its own connection for the whole run; released when it closes.
        with db.engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(name)}).scalar()
            if not got:
                raise RunBusyError(f"Another “{name}” run is under way; this one did nothing.")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _key(name)})
                conn.commit()
        return
    with db.engine.begin() as conn:
        conn.execute(
            delete(RunLock).where(
                RunLock.name == name, RunLock.acquired_at < utcnow() - STALE_AFTER
            )
        )
    try:
        with db.engine.begin() as conn:
            conn.execute(
                insert(RunLock).values(
                    name=name, acquired_at=utcnow(), holder=f"{socket.gethostname()}:{os.getpid()}"
                )
            )
    except IntegrityError:
        raise RunBusyError(f"Another “{name}” run is under way; this one did nothing.") from None
    try:
        yield
    finally:
        with db.engine.begin() as conn:
            conn.execute(delete(RunLock).where(RunLock.name == name))
