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

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func, select

from app.extensions import db

T = TypeVar("T")

MAX_ENTRIES = 256

_entries: OrderedDict[tuple, object] = OrderedDict()
_lock = threading.Lock()


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


def cached_on(fingerprint: Callable[[], tuple]):
    """Decorator factory: remember ``compute(*args)`` (hashable args) until ``fingerprint()``
    changes."""

    def decorate(compute: Callable[..., T]) -> Callable[..., T]:
        name = f"{compute.__module__}.{compute.__qualname__}"

        @functools.wraps(compute)
        def wrapper(*args):
            key = (name, args, str(db.engine.url), fingerprint())
            with _lock:
                if key in _entries:
                    _entries.move_to_end(key)
                    return _entries[key]
            value = compute(*args)
            with _lock:
                _entries[key] = value
                while len(_entries) > MAX_ENTRIES:
                    _entries.popitem(last=False)
            return value

        def remember(answers: dict[tuple, T]) -> None:
            """Keep answers computed elsewhere, by their arguments (several dates computed
            from one load of facts)."""
            prefix = (str(db.engine.url), fingerprint())
            with _lock:
                for args, value in answers.items():
                    _entries[(name, args, *prefix)] = value
                while len(_entries) > MAX_ENTRIES:
                    _entries.popitem(last=False)

        wrapper.uncached = compute
        wrapper.remember = remember
        return wrapper

    return decorate


#: Remember a figure of the threat register until a threat or score change changes.
register_cached = cached_on(register_fingerprint)
#: Remember a coverage figure until a system, staff member or responsibility changes.
coverage_cached = cached_on(coverage_fingerprint)


def clear() -> None:
    """Forget every remembered figure (tests between databases; bulk rewrites)."""
    with _lock:
        _entries.clear()
