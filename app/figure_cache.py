"""Per-process memory of register figures that are costly to compute and rarely change.

A figure of the threat register as of a date (a heat map, a ranking) depends only on the
threats and their score and state history. ``register_cached`` keeps such a figure under the key
(function, arguments, database, register fingerprint); the fingerprint is one cheap
query (maxima read from indexes, no counts: a count reads the whole index) that changes
whenever a threat or a score change is added, whenever a threat is edited (``updated_at``)
and whenever one of them is removed (the audit log's latest removal of that kind). So the first
call after any change to the register recomputes, later calls reuse the answer.

``coverage_cached`` does the same for the coverage figures (systems, staff members and
responsibilities). Cached values are shared by every caller: they must be immutable
(tuples, frozen dataclasses) or treated as read-only.
Writers that change or remove threats or score changes without going through the ORM (so
without an audit entry) and without adding a row (none do today) must call ``clear()``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar, cast

from sqlalchemy import func, select

from app.extensions import db

T = TypeVar("T")


class CachedFigure(Protocol[T]):
    """A figure function that remembers its answers, with the plain function beside it."""

    uncached: Callable[..., T]
    remember: Callable[[dict[tuple[object, ...], T]], None]

    def __call__(self, *args: object) -> T: ...


MAX_ENTRIES = 256

_entries: OrderedDict[tuple, object] = OrderedDict()
_lock = threading.Lock()
# Fingerprints read once while ``pinned()`` is in effect, by fingerprint function.
_pinned: contextvars.ContextVar[dict | None] = contextvars.ContextVar("pinned", default=None)


@contextlib.contextmanager
def pinned() -> Iterator[None]:
    """Read each fingerprint at most once inside the block.

    A report asks for a dozen remembered figures in one go; reading the fingerprints
    before each (a count over every threat) cost more than some of the figures. Inside the
    block the figures are taken as of the register when first asked, as one consistent
    reading should be.
    """
    if _pinned.get() is not None:
        yield
        return
    token = _pinned.set({})
    try:
        yield
    finally:
        _pinned.reset(token)


def _read(fingerprint: Callable[[], tuple]) -> tuple:
    memo = _pinned.get()
    if memo is None:
        return fingerprint()
    if fingerprint not in memo:
        memo[fingerprint] = fingerprint()
    return memo[fingerprint]


def _latest_removal(*models) -> list:
    # A record removed (a purge, a correction) lowers no maximum of its own table; its
    # audit entry says it, read from an index per kind of record (a count would read the
    # whole table). Additions and edits show in the tables' own maxima.
    from app.models.audit import AuditEntry

    return [
        select(func.max(AuditEntry.id))
        .where(AuditEntry.entity_type == model.__name__, AuditEntry.action == "delete")
        .scalar_subquery()
        for model in models
    ]


def register_fingerprint() -> tuple:
    """What identifies the register's current content (one query, index reads only)."""
    from app.models.threats import Threat, ThreatScoreChange, ThreatStateChange

    return tuple(
        db.session.execute(
            select(
                select(func.max(Threat.id)).scalar_subquery(),
                select(func.max(Threat.updated_at)).scalar_subquery(),
                select(func.max(ThreatScoreChange.id)).scalar_subquery(),
                select(func.max(ThreatStateChange.id)).scalar_subquery(),
                *_latest_removal(Threat, ThreatScoreChange, ThreatStateChange),
            )
        ).one()
    )


def coverage_fingerprint() -> tuple:
    """What identifies the systems, staff and responsibilities the coverage figures read."""
    from app.models.systems import Responsibility, StaffMember, System, SystemProductionChange

    parts = []
    for model in (System, StaffMember, Responsibility):
        parts += [
            select(func.max(model.id)).scalar_subquery(),
            select(func.max(model.updated_at)).scalar_subquery(),
        ]
    # Production changes have no updated_at: their latest id.
    parts += [
        select(func.max(SystemProductionChange.id)).scalar_subquery(),
        *_latest_removal(System, StaffMember, Responsibility, SystemProductionChange),
    ]
    return tuple(db.session.execute(select(*parts)).one())


def cached_on(
    fingerprint: Callable[[], tuple[object, ...]],
) -> Callable[[Callable[..., T]], CachedFigure[T]]:
    """Decorator factory: remember ``compute(*args)`` (hashable args) until ``fingerprint()``
    changes."""

    def decorate(compute: Callable[..., T]) -> CachedFigure[T]:
        name = f"{compute.__module__}.{compute.__qualname__}"

        @functools.wraps(compute)
        def wrapper(*args: object) -> T:
            key = (name, args, str(db.engine.url), _read(fingerprint))
            with _lock:
                if key in _entries:
                    _entries.move_to_end(key)
                    return cast(T, _entries[key])
            value = compute(*args)
            with _lock:
                _entries[key] = value
                while len(_entries) > MAX_ENTRIES:
                    _entries.popitem(last=False)
            return value

        def remember(answers: dict[tuple[object, ...], T]) -> None:
            """Keep answers computed elsewhere, by their arguments (several dates computed
            from one load of facts)."""
            prefix = (str(db.engine.url), _read(fingerprint))
            with _lock:
                for args, value in answers.items():
                    _entries[(name, args, *prefix)] = value
                while len(_entries) > MAX_ENTRIES:
                    _entries.popitem(last=False)

        cached = cast(CachedFigure[T], wrapper)
        cached.uncached = compute
        cached.remember = remember
        return cached

    return decorate


#: Remember a figure of the threat register until a threat or score change changes.
register_cached = cached_on(register_fingerprint)
#: Remember a coverage figure until a system, staff member or responsibility changes.
coverage_cached = cached_on(coverage_fingerprint)


def clear() -> None:
    """Forget every remembered figure (tests between databases; bulk rewrites)."""
    with _lock:
        _entries.clear()
