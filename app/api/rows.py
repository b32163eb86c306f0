"""List items as plain rows: the JSON of a page built from one SELECT of the page's ids,
related names gathered in SQL, without loading ORM objects or running the item schema.

A page of 1,000 threats costs one query and a dict per row; ``ThreatSchema`` stays the
document of the answer, and a test keeps each item equal to what the schema dumps.
"""

from __future__ import annotations

import functools

from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from app.domain.scoring import level_for
from app.domain.scoring_methods import Method, inputs_for_reading
from app.extensions import db
from app.models import System, Tag, Threat, ThreatCategory, ThreatFeed, User
from app.models.threats import threat_systems, threat_tags
from app.risk import risk_matrix
from app.transfer.sql import dialect, joined

UNIT = "\x1f"  # between the names of one cell: a character no name contains


def _name(model, column, key):
    related = aliased(model)
    return (
        select(getattr(related, column.key))
        .where(related.id == key)
        .correlate(Threat)
        .scalar_subquery()
    )


def _listed(value, table, column, model, order):
    return joined(
        value,
        table.c.threat_id == Threat.id,
        model.id == column,
        order_by=[order, model.id],
        outer=Threat,
        separator=UNIT,
    )


def _split(text: str | None) -> list[str]:
    return text.split(UNIT) if text else []


def _day(value):
    return value.isoformat() if value is not None else None


@functools.cache
def _threat_rows_query(dialect: str):
    """Built once per database kind (the related names are gathered per dialect); the ids
    are bound at execution, so the statement is compiled once too."""
    t = Threat
    return select(
        t.id,
        t.title,
        t.description,
        _name(ThreatCategory, ThreatCategory.name, t.category_id),
        t.category_id,
        t.source,
        _name(ThreatFeed, ThreatFeed.name, t.feed_id),
        t.feed_id,
        _name(User, User.name, t.owner_id),
        t.owner_id,
        t.status,
        t.treatment,
        t.treatment_rationale,
        t.acceptance_approver_id,
        t.acceptance_expires_on,
        t.identified_on,
        t.next_review_on,
        t.inherent_likelihood,
        t.inherent_impact,
        t.inherent_score,
        t.residual_likelihood,
        t.residual_impact,
        t.residual_score,
        _listed(System.id, threat_systems, threat_systems.c.system_id, System, System.name),
        _listed(System.name, threat_systems, threat_systems.c.system_id, System, System.name),
        _listed(Tag.name, threat_tags, threat_tags.c.tag_id, Tag, Tag.name),
        t.archived_at,
        t.version,
        t.scoring_method,
        t.scoring_inputs,
        t.method_score,
        t.method_rating,
    ).where(t.id.in_(bindparam("ids", expanding=True)))


def threat_items(ids: list[int]) -> list[dict]:
    """The ``ThreatSchema`` items of these threats, in the order of ``ids``."""
    if not ids:
        return []
    query = _threat_rows_query(dialect())
    matrix = risk_matrix()
    levels: dict[int, str] = {}
    items = {}
    for row in db.session.execute(query, {"ids": ids}):
        (id_, title, description, category, category_id, source, feed, feed_id, owner,
         owner_id, status, treatment, rationale, approver_id, expires_on, identified_on,
         review_on, il, ii, iscore, rl, ri, rscore, system_ids, system_names, tags,
         archived_at, version, method, inputs, method_score, rating) = row  # fmt: skip
        if rscore not in levels:
            levels[rscore] = level_for(rscore, matrix).value
        items[id_] = {
            "id": id_,
            "title": title,
            "description": description,
            "category": category,
            "category_id": category_id,
            "source": source.value,
            "feed": feed,
            "feed_id": feed_id,
            "owner": owner,
            "owner_id": owner_id,
            "status": status.value,
            "treatment": treatment.value if treatment is not None else None,
            "treatment_rationale": rationale,
            "acceptance_approver_id": approver_id,
            "acceptance_expires_on": _day(expires_on),
            "identified_on": _day(identified_on),
            "next_review_on": _day(review_on),
            "inherent": {"likelihood": il, "impact": ii, "score": iscore},
            "residual": {"likelihood": rl, "impact": ri, "score": rscore},
            "level": levels[rscore],
            "systems": [
                {"id": int(i), "name": n}
                for i, n in zip(_split(system_ids), _split(system_names), strict=True)
            ],
            "tags": _split(tags),
            "archived": archived_at is not None,
            "version": version,
            "scoring_method": method,
            "scoring_inputs": inputs_for_reading(Method(method), inputs),
            "method_score": method_score,
            "method_rating": rating,
        }
    return [items[i] for i in ids if i in items]
