"""List items written as JSON by the database: a page of 1,000 threats is one SELECT of the
page's ids whose every row is the item's JSON text (``json_object`` on SQLite,
``json_build_object`` on PostgreSQL), related names gathered in the same statement.

No ORM object, no schema run and no JSON encoding per row in Python: the page's items are
the rows' texts joined with commas. ``ThreatSchema`` stays the document of the answer, and
a test keeps each item equal to what the schema dumps, on both databases.
"""

from __future__ import annotations

import functools
import json

from sqlalchemy import (
    JSON,
    Integer,
    String,
    Text,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import aliased

from app.domain.scoring import Level
from app.domain.scoring_methods import Method
from app.extensions import db
from app.inputs import Named
from app.models import (
    System,
    Tag,
    Threat,
    ThreatCategory,
    ThreatFeed,
    User,
)
from app.models.threats import threat_systems, threat_tags
from app.threats.inputs import STORED_AS_READ, input_field
from app.threats.risk import risk_matrix
from app.transfer.sql import dialect


def _word(text: str):
    # Inline, typed text: PostgreSQL cannot tell the type of a bound parameter given to
    # json_build_object. Only the code's own words (keys, enum values, level names) come here.
    return literal_column("'" + text.replace("'", "''") + "'", Text)


def _value(column, enum_cls):
    # Stored by name; answered by value.
    return case(
        *[(type_coerce(column, String) == _word(m.name), _word(m.value)) for m in enum_cls],
        else_=None,
    )


def _stored(column, field):
    return _value(column, field.enum_cls) if isinstance(field, Named) else column


class _Json:
    """The JSON functions of one database."""

    def __init__(self, kind: str):
        self.sqlite = kind == "sqlite"

    def object(self, **pairs):
        args = [part for key, value in pairs.items() for part in (_word(key), value)]
        return (func.json_object if self.sqlite else func.json_build_object)(*args)

    def boolean(self, condition):
        if self.sqlite:  # SQLite has no boolean: JSON true/false from their text
            return func.json(case((condition, _word("true")), else_=_word("false")))
        return condition

    def method_inputs(self, method, stored):
        # As app.domain.scoring_methods.inputs_for_reading: the factors as an object, the
        # vector as text, nothing for likelihood × impact.
        factors = method.in_([_word(Method.OWASP.value), _word(Method.DREAD.value)])
        parsed = func.json(stored) if self.sqlite else cast(stored, JSON)
        as_text = stored if self.sqlite else func.to_json(stored)
        return case(
            (stored == _word(""), None),
            (factors, parsed),
            else_=as_text,
        )

    def ids(self):
        """The page's ids, one bound value: a JSON array read by json_each on SQLite, an
        integer array on PostgreSQL (a thousand separate parameters cost more to send than
        the page costs to read)."""
        if self.sqlite:
            return select(func.json_each(bindparam("ids")).table_valued("value").c.value)
        return any_(bindparam("ids", type_=ARRAY(Integer)))

    def of_page(self, column):
        return column.in_(self.ids()) if self.sqlite else column == self.ids()

    def ids_value(self, ids: list[int]):
        return json.dumps(ids) if self.sqlite else ids

    def linked(self, value, link, link_column, model, order_by, of_objects=False):
        """``(array, join)``: ``value`` of the ``model`` rows each threat links to through
        ``link``, as a JSON array in ``order_by`` order ([] when none); ``join`` (or None)
        is what the statement must outer-join to read it."""
        if self.sqlite:
            # A correlated subquery per row is what SQLite does best. No ORDER BY inside an
            # aggregate before SQLite 3.44: aggregate an ordered subquery. What comes out of
            # a subquery is text: json() makes it JSON again (objects in the array, the
            # array in the item), not a string.
            inner = (
                select(value.label("v"))
                .where(link.c.threat_id == Threat.id, model.id == link_column)
                .order_by(*order_by)
                .correlate(Threat)
                .subquery()
            )
            element = func.json(inner.c.v) if of_objects else inner.c.v
            return func.json(select(func.json_group_array(element)).scalar_subquery()), None
        # PostgreSQL: aggregated once for the page's threats, joined (a sub-plan per row
        # costs more there).
        grouped = (
            select(
                link.c.threat_id.label("threat_id"),
                func.json_agg(aggregate_order_by(value, *order_by)).label("v"),
            )
            .select_from(link.join(model, model.id == link_column))
            .where(self.of_page(link.c.threat_id))
            .group_by(link.c.threat_id)
            .subquery()
        )
        empty = literal_column("'[]'::json")
        return func.coalesce(grouped.c.v, empty), (grouped, grouped.c.threat_id == Threat.id)


@functools.cache
def _threat_json_query(kind: str, thresholds: tuple[tuple[Level, int], ...]):
    """Built once per database kind and risk matrix; the ids are bound at execution, so the
    statement is compiled once too."""
    t = Threat
    j = _Json(kind)
    category, feed, owner = aliased(ThreatCategory), aliased(ThreatFeed), aliased(User)
    systems, systems_join = j.linked(
        j.object(id=System.id, name=System.name),
        threat_systems,
        threat_systems.c.system_id,
        System,
        order_by=[System.name, System.id],
        of_objects=True,
    )
    tags, tags_join = j.linked(
        Tag.name, threat_tags, threat_tags.c.tag_id, Tag, order_by=[Tag.name, Tag.id]
    )

    def as_read(name: str):
        # The field's choices as ThreatInput declares them.
        return _stored(getattr(t, name), input_field(name))

    level = case(
        *[(t.residual_score >= minimum, _word(lvl.value)) for lvl, minimum in reversed(thresholds)],
        else_=_word(thresholds[0][0].value),
    )  # as app.domain.scoring.level_for: the last threshold reached, in the matrix's order
    pairs = dict(
        id=t.id,
        title=t.title,
        description=t.description,
        category=category.name,
        category_id=t.category_id,
        source=as_read("source"),
        feed=feed.name,
        feed_id=t.feed_id,
        owner=owner.name,
        owner_id=t.owner_id,
        status=as_read("status"),
        treatment=as_read("treatment"),
        treatment_rationale=t.treatment_rationale,
        acceptance_approver_id=t.acceptance_approver_id,
        acceptance_expires_on=t.acceptance_expires_on,
        identified_on=t.identified_on,
        next_review_on=t.next_review_on,
        inherent=j.object(
            likelihood=t.inherent_likelihood, impact=t.inherent_impact, score=t.inherent_score
        ),
        residual=j.object(
            likelihood=t.residual_likelihood, impact=t.residual_impact, score=t.residual_score
        ),
        level=level,
        systems=systems,
        tags=tags,
        archived=j.boolean(t.archived_at.is_not(None)),
        version=t.version,
        scoring_method=t.scoring_method,
        scoring_inputs=j.method_inputs(t.scoring_method, t.scoring_inputs),
        method_score=t.method_score,
        method_rating=t.method_rating,
    )
    for name in STORED_AS_READ:  # a field stored as read, unless laid out above
        if name not in pairs:
            pairs[name] = as_read(name)
    item = j.object(**pairs)
    source = (
        t.__table__.outerjoin(category, category.id == t.category_id)
        .outerjoin(feed, feed.id == t.feed_id)
        .outerjoin(owner, owner.id == t.owner_id)
    )
    for join in (systems_join, tags_join):
        if join is not None:
            source = source.outerjoin(*join)
    return select(t.id, cast(item, Text)).select_from(source).where(j.of_page(t.id))


def threat_items(ids: list[int]) -> list[str]:
    """The ``ThreatSchema`` items of these threats as JSON texts, in the order of ``ids``."""
    if not ids:
        return []
    kind = dialect()
    query = _threat_json_query(kind, tuple(risk_matrix().thresholds))
    # Core, not the ORM session: plain tuples, no per-row ORM bookkeeping.
    result = db.session.connection().execute(query, {"ids": _Json(kind).ids_value(ids)})
    found = {id_: text for id_, text in result.all()}
    return [found[i] for i in ids if i in found]
