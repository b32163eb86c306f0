"""Plain-row SQL for the exports: related names gathered per row in the database."""

from __future__ import annotations

from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from app.extensions import db

SEPARATOR = "; "


def dialect() -> str:
    return db.session.get_bind().dialect.name


def joined(value, *where, order_by, outer, from_=None, separator=SEPARATOR):
    """One cell per row: ``value`` of the related rows matching ``where`` (correlated to the
    outer row), in ``order_by`` order, joined with ``separator`` by the database (string_agg on
    PostgreSQL, group_concat on SQLite); NULL when there is none."""
    if not isinstance(value.type, String):
        value = cast(value, String)
    if dialect() == "postgresql":
        query = select(func.string_agg(value, aggregate_order_by(literal(separator), *order_by)))
        if from_ is not None:
            query = query.select_from(from_)
        return query.where(*where).scalar_subquery()
    # SQLite (before 3.44) has no ORDER BY inside an aggregate: it concatenates the rows of
    # an ordered subquery in the order they come.
    inner = select(value.label("v")).where(*where).order_by(*order_by).correlate(outer)
    if from_ is not None:
        inner = inner.select_from(from_)
    inner = inner.subquery()
    return select(func.group_concat(inner.c.v, separator)).scalar_subquery()


def linked_names(outer, link, key: str, named, other_key: str, value=None):
    """One cell per row: the names (or ``value``) of the records the outer row links to
    through the table ``link`` (its ``key`` to the outer row, ``other_key`` to ``named``),
    sorted."""
    value = named.name if value is None else value
    return joined(
        value,
        link.c[key] == outer.id,
        named.id == link.c[other_key],
        order_by=[value],
        outer=outer,
    )
