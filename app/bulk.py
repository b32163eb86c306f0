"""Plain rows written at size: inserts in chunks (no ORM object per row), the names a
batch needs created, and the audit rows the flush listener never sees.

The areas' bulk writers (``create_threats``...) build their rows with the same code as
their single-record path and write them through these; the CSV import and the synthetic
seed call the writers, never these directly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert, select

from app.extensions import db
from app.models.audit import AuditEntry, to_json_value
from app.models.base import utcnow

CHUNK = 5000


def stamped(values: dict) -> dict:
    """A new record's row with the columns every versioned table keeps."""
    now = utcnow()
    return {**values, "created_at": now, "updated_at": now, "version": 1}


def insert_returning_ids(model, rows: list[dict]) -> list[int]:
    """Insert ``rows`` in chunks; their ids in the rows' order. Into a model, the ORM's bulk
    path leaves an empty value to the column's default (one statement per run of rows with
    the same empty columns); into its table, the values go as they are, in one."""
    if rows and "id" in rows[0]:
        # Rows that bring their own ids (synthetic data) need no RETURNING, which would
        # insert them one by one to keep their order.
        insert_rows(model, rows)
        return [row["id"] for row in rows]
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        result = db.session.execute(
            insert(model).returning(
                model.c.id if isinstance(model, Table) else model.id, sort_by_parameter_order=True
            ),
            chunk,
        )
        ids.extend(result.scalars().all())
    return ids


def insert_rows(table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        if rows[start : start + CHUNK]:
            db.session.execute(insert(table), rows[start : start + CHUNK])


def insert_links(table, key: str, ids: list[int], other_key: str, others: list) -> None:
    """A link table's rows: each new record (``ids``) with the ids it links to (``others``,
    one collection per record)."""
    insert_rows(
        table,
        [
            {key: object_id, other_key: other_id}
            for object_id, linked in zip(ids, others, strict=True)
            for other_id in linked
        ],
    )


def copy_rows(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Very many small rows (a search index): COPY on PostgreSQL, the driver's own
    executemany on SQLite, in the session's transaction."""
    connection = db.session.connection()
    raw: Any = connection.connection.dbapi_connection
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor = raw.cursor()
    step = 50_000
    for start in range(0, len(rows), step):
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})", rows[start : start + step]
        )


def ids_by_name(model, names: set[str]) -> dict[str, int]:
    """Existing rows by folded name, creating the missing ones (categories, feeds, tags)."""
    found = {
        name.casefold(): object_id
        for name, object_id in db.session.execute(select(model.name, model.id))
    }
    missing = {}
    for name in names:
        if name.casefold() not in found and name.casefold() not in missing:
            missing[name.casefold()] = name
    if missing:
        extra = (
            {"created_at": utcnow(), "updated_at": utcnow()} if hasattr(model, "created_at") else {}
        )
        insert_rows(model, [{"name": name, **extra} for name in missing.values()])
        found = {
            name.casefold(): object_id
            for name, object_id in db.session.execute(select(model.name, model.id))
        }
    return found


def audit_imported(model, ids: list[int], rows: list[dict], summary_key: str) -> None:
    """One "import" audit row per record written in bulk: the flush listener never sees them."""
    from app.models.audit import current_actor

    user_id, actor = current_actor()
    now = utcnow()
    insert_rows(
        AuditEntry.__table__,
        [
            {
                "at": now,
                "user_id": user_id,
                "actor": actor,
                "action": "import",
                "entity_type": model.__name__,
                "entity_id": str(object_id),
                "summary": str(row.get(summary_key, ""))[:300],
                "old_values": None,
                "new_values": {
                    k: to_json_value(v)
                    for k, v in row.items()
                    if k not in ("created_at", "updated_at", "version")
                },
            }
            for object_id, row in zip(ids, rows, strict=True)
        ],
    )


def insert_new(model, values: list[dict], summary_key: str, audited: bool = True) -> list[int]:
    """New records whose checked values are their columns, with their "import" audit rows
    unless not ``audited`` (the synthetic data); their ids, in order."""
    rows = [stamped(v) for v in values]
    # Into the table: the checked values leave no column to its default.
    ids = insert_returning_ids(model.__table__, rows)
    if audited:
        audit_imported(model, ids, rows, summary_key)
    return ids
