"""The threat register's list as a query: filters and sort read from a query string.

One code path for the register page (``app.threats.views.index``, which paginates it) and
the CSV export (``app.transfer``, which writes every row in the same order).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import SQLColumnExpression, false, select

from app import fiscal, validation
from app.domain.scoring import Level
from app.models.threats import (
    Tag,
    Threat,
    ThreatCategory,
    ThreatStatus,
    Treatment,
    threat_systems,
    threat_tags,
)
from app.models.user import User
from app.threats import figures
from app.threats.risk import risk_matrix
from app.threats.search import apply_search

SORTS: dict[str, Callable[[], list[SQLColumnExpression[Any]]]] = {
    "title": lambda: [Threat.title],
    "category": lambda: [
        select(ThreatCategory.name).where(ThreatCategory.id == Threat.category_id).scalar_subquery()
    ],
    "status": lambda: [Threat.status],
    "treatment": lambda: [Threat.treatment],
    "inherent": lambda: [Threat.inherent_score, Threat.residual_score],
    "residual": lambda: [Threat.residual_score, Threat.inherent_score],
    "owner": lambda: [select(User.name).where(User.id == Threat.owner_id).scalar_subquery()],
    "identified": lambda: [Threat.identified_on],
    "review": lambda: [Threat.next_review_on],
}
DEFAULT_SORT = "-residual"


def int_arg(args: Mapping, name: str, lo: int = 1, hi: int = 10**9) -> int | None:
    text = (args.get(name) or "").strip()
    if text.isdigit() and len(text) < 10 and lo <= int(text) <= hi:
        return int(text)
    return None


@dataclass
class Filters:
    q: str
    category: int | None
    status: ThreatStatus | None
    level: Level | None
    owner: int | None
    system: int | None
    tag: str
    overdue: bool
    decision: bool
    archived: bool
    sort: str
    cell: tuple[str, int, int] | None
    as_of: date | None
    # An ATT&CK technique the threats are mapped to on ``as_of`` (or today): ?technique=.
    technique: str = ""
    # With the register, the archived threats too (the API's include_archived=1).
    include_archived: bool = False

    @property
    def active(self) -> bool:
        return bool(
            self.q
            or self.category
            or self.status
            or self.level
            or self.owner
            or self.system
            or self.tag
            or self.overdue
            or self.decision
            or self.cell
            or self.technique
        )


def parse_filters(args: Mapping) -> Filters:
    """The register's filters; unknown values are ignored, an impossible ``as_of`` date
    raises ValueError (a readable message)."""
    status = next((s for s in ThreatStatus if s.value == args.get("status")), None)
    level = next((lv for lv in Level if lv.value == args.get("level")), None)
    sort = args.get("sort") or DEFAULT_SORT
    if sort.lstrip("-") not in SORTS:
        sort = DEFAULT_SORT
    matrix = risk_matrix()
    kind = args.get("kind")
    li = int_arg(args, "l", 1, matrix.max_likelihood)
    im = int_arg(args, "i", 1, matrix.max_impact)
    cell = (kind, li, im) if kind in figures.KINDS and li and im else None
    as_of = fiscal.parse_date_or_none(args.get("as_of"))
    return Filters(
        q=(args.get("q") or "").strip()[:200],
        category=int_arg(args, "category"),
        status=status,
        level=level,
        owner=int_arg(args, "owner"),
        system=int_arg(args, "system"),
        tag=(args.get("tag") or "").strip()[:60],
        overdue=args.get("overdue") == "1",
        decision=args.get("decision") == "1",
        archived=args.get("archived") == "1",
        sort=sort,
        cell=cell,
        as_of=as_of,
        include_archived=args.get("include_archived") == "1",
        technique=(args.get("technique") or "").strip()[:40],
    )


def _filtered(f: Filters, today: date):
    query = select(Threat)
    if f.cell:
        kind, li, im = f.cell
        query = query.where(Threat.id.in_(figures.cell_threat_ids(f.as_of or today, kind, li, im)))
    elif f.archived:
        query = query.where(Threat.archived_at.is_not(None))
    elif not f.include_archived:
        query = query.where(Threat.archived_at.is_(None))
    if f.technique:
        from app.catalogues.queries import threat_ids_mapped_to

        query = query.where(Threat.id.in_(threat_ids_mapped_to(f.technique, f.as_of or today)))
    if f.q:
        query = apply_search(query, f.q)
    if f.category:
        query = query.where(Threat.category_id == f.category)
    if f.status:
        query = query.where(Threat.status == f.status)
    if f.level:
        matrix = risk_matrix()
        if f.level in matrix.levels:
            low, high = matrix.score_range(f.level)
            query = query.where(Threat.residual_score.between(low, high))
        else:
            query = query.where(false())
    if f.owner:
        query = query.where(Threat.owner_id == f.owner)
    if f.system:
        query = query.where(
            Threat.id.in_(
                select(threat_systems.c.threat_id).where(threat_systems.c.system_id == f.system)
            )
        )
    if f.tag:
        query = query.where(
            Threat.id.in_(
                select(threat_tags.c.threat_id)
                .join(Tag, Tag.id == threat_tags.c.tag_id)
                .where(Tag.name == f.tag.lower())
            )
        )
    if f.overdue:
        query = query.where(Threat.status != ThreatStatus.CLOSED, Threat.next_review_on < today)
    if f.decision:
        query = query.where(
            Threat.treatment == Treatment.ACCEPT, Threat.acceptance_expires_on < today
        )
    return query


def register_query(f: Filters, today: date | None = None):
    """SELECT the threats the register shows with these filters, in its order (no page)."""
    query = _filtered(f, today or fiscal.today())
    descending = f.sort.startswith("-")
    columns = SORTS[f.sort.lstrip("-")]() + [Threat.id]
    return query.order_by(*[c.desc() if descending else c.asc() for c in columns])


def list_query(args: Mapping):
    """The register's SELECT from a query string (ValueError for an impossible date)."""
    return register_query(parse_filters(args))


def _sort_keys(keys) -> set[str]:
    return {*keys, *(f"-{k}" for k in keys)}


def ignored_filters(args: Mapping, max_top: int) -> list[str]:
    """What the register ignores in this query string (the page says so)."""
    matrix = risk_matrix()

    def whole(lo: int, hi: int):
        return lambda text: int_arg({"v": text}, "v", lo, hi) is not None

    return validation.ignored_filters(
        args,
        {
            "status": {s.value for s in ThreatStatus},
            "level": {lv.value for lv in Level},
            "sort": _sort_keys(SORTS),
            "category": whole(1, 10**9),
            "owner": whole(1, 10**9),
            "system": whole(1, 10**9),
            "overdue": {"0", "1"},
            "decision": {"0", "1"},
            "archived": {"0", "1"},
            "kind": set(figures.KINDS),
            "l": whole(1, matrix.max_likelihood),
            "i": whole(1, matrix.max_impact),
            "top": whole(1, max_top),
        },
    )
