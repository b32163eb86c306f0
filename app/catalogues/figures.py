"""Catalogue coverage figures as of a date (one home each: the pages, the API, the KR
metrics and the PDF call these).

A threat counts on a technique on day D when the mapping is in force on D
(``mapped_on <= D < unmapped_on``) and the threat is on the register on D (its state in
force that day); its residual score is the one in force that day. A countermeasure
counts when the mapping is in force on D and it is deployed on D (``deployed_on <= D``
and not retired by then). A sub-technique counts in its technique's cell. Each figure is
a fixed number of grouped queries, whatever the size of the register, remembered per
process until the register, the mappings or the countermeasures change.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import and_, distinct, func, or_, select

from app.catalogues.libraries import version_entries, version_in_force
from app.catalogues.mappings import in_force
from app.domain.catalogue_coverage import (
    AttackCoverage,
    CellFigures,
    FrameworkCoverage,
    attack_coverage,
    framework_coverage,
)
from app.extensions import db
from app.figure_cache import cached_on, register_fingerprint
from app.models.catalogues import (
    CatalogueEntry,
    CountermeasureMapping,
    Library,
    LibraryKind,
    LibraryVersion,
    ThreatMapping,
)
from app.models.countermeasures import Countermeasure
from app.models.threats import ThreatScoreChange
from app.threats.as_of import in_force_on, register_ids_on


def catalogue_fingerprint() -> tuple:
    """The register's fingerprint and what identifies the mappings, the countermeasures'
    dates and the libraries' versions (one more query)."""
    parts = []
    # A mapping is only ever added or ended; a record's deletion (which takes its mappings)
    # changes the register's fingerprint or the countermeasure count.
    for model in (ThreatMapping, CountermeasureMapping):
        parts += [
            select(func.max(model.id)).scalar_subquery(),
            # Ending a mapping is its only change: the ended ones, counted from an index.
            select(func.count())
            .select_from(model)
            .where(model.unmapped_on.is_not(None))
            .scalar_subquery(),
        ]
    parts += [
        select(func.max(LibraryVersion.id)).scalar_subquery(),
        select(func.count(Countermeasure.id)).scalar_subquery(),
        select(func.max(Countermeasure.updated_at)).scalar_subquery(),
    ]
    return register_fingerprint() + tuple(db.session.execute(select(*parts)).one())


catalogue_cached = cached_on(catalogue_fingerprint)


def libraries(kind: LibraryKind | None = None) -> list[Library]:
    query = select(Library).order_by(Library.kind, Library.name)
    if kind is not None:
        query = query.where(Library.kind == kind)
    return list(db.session.scalars(query))


def _cell_of(version_id: int | None, mapping):
    """The matrix cell a mapped ref counts in: its technique for a sub-technique."""
    entry = CatalogueEntry.__table__.alias("mapped_entry")
    cell = func.coalesce(entry.c.parent_ref, mapping.ref)
    join = and_(entry.c.version_id == version_id, entry.c.ref == mapping.ref)
    return entry, cell, join


def _threat_cells(library_id: int, version_id: int | None, as_of: date) -> dict:
    """cell ref -> (threats, worst residual) on ``as_of``: one grouped query."""
    scores = ThreatScoreChange.__table__.alias("scores_then")
    entry, cell, join = _cell_of(version_id, ThreatMapping)
    query = (
        select(
            cell, func.count(distinct(ThreatMapping.threat_id)), func.max(scores.c.residual_score)
        )
        .select_from(ThreatMapping)
        .outerjoin(entry, join)
        .outerjoin(
            scores, and_(scores.c.threat_id == ThreatMapping.threat_id, *in_force_on(as_of, scores))
        )
        .where(
            ThreatMapping.library_id == library_id,
            *in_force(ThreatMapping, as_of),
            ThreatMapping.threat_id.in_(register_ids_on(as_of)),
        )
        .group_by(cell)
    )
    return {ref: (n, worst) for ref, n, worst in db.session.execute(query)}


def deployed_on(as_of: date):
    """WHERE clauses: the countermeasure was deployed on ``as_of`` (and not yet retired)."""
    return (
        Countermeasure.deployed_on <= as_of,
        or_(Countermeasure.retired_on.is_(None), Countermeasure.retired_on > as_of),
    )


def _countermeasure_cells(library_id: int, version_id: int | None, as_of: date) -> dict:
    """cell ref -> deployed countermeasures mapped to it on ``as_of``: one grouped query."""
    entry, cell, join = _cell_of(version_id, CountermeasureMapping)
    query = (
        select(cell, func.count(distinct(CountermeasureMapping.countermeasure_id)))
        .select_from(CountermeasureMapping)
        .join(Countermeasure, Countermeasure.id == CountermeasureMapping.countermeasure_id)
        .outerjoin(entry, join)
        .where(
            CountermeasureMapping.library_id == library_id,
            *in_force(CountermeasureMapping, as_of),
            *deployed_on(as_of),
        )
        .group_by(cell)
    )
    return dict(db.session.execute(query).tuples().all())


@catalogue_cached
def attack_coverage_on(library_id: int, as_of: date) -> AttackCoverage:
    """The ATT&CK matrix of a library on ``as_of``: per technique, the open threats mapped
    to it (and their worst residual score) and the deployed countermeasures mitigating it,
    laid out as the library's version in force that day."""
    version_id, label = version_in_force(library_id, as_of)
    threats = _threat_cells(library_id, version_id, as_of)
    countermeasures = _countermeasure_cells(library_id, version_id, as_of)
    figures = {
        ref: CellFigures(
            threats=threats.get(ref, (0, None))[0],
            worst_residual=threats.get(ref, (0, None))[1],
            countermeasures=countermeasures.get(ref, 0),
        )
        for ref in set(threats) | set(countermeasures)
    }
    return replace(attack_coverage(version_entries(version_id), figures), version=label)


def exposed_techniques(library_id: int, as_of: date) -> int:
    """Techniques with an open threat and no deployed countermeasure on ``as_of``."""
    return attack_coverage_on(library_id, as_of).exposed


def tactics_uncovered(library_id: int, as_of: date) -> int:
    """Tactics none of whose techniques has a deployed countermeasure on ``as_of``."""
    return len(attack_coverage_on(library_id, as_of).tactics_uncovered)


@catalogue_cached
def framework_coverage_on(library_id: int, as_of: date) -> FrameworkCoverage:
    """A framework's controls (of its version in force on ``as_of``) implemented by a
    countermeasure deployed that day."""
    version_id, _label = version_in_force(library_id, as_of)
    implemented = db.session.scalars(
        select(distinct(CountermeasureMapping.ref))
        .join(Countermeasure, Countermeasure.id == CountermeasureMapping.countermeasure_id)
        .where(
            CountermeasureMapping.library_id == library_id,
            *in_force(CountermeasureMapping, as_of),
            *deployed_on(as_of),
        )
    ).all()
    return framework_coverage(version_entries(version_id), implemented)


def controls_implemented_percent(library_id: int, as_of: date) -> int:
    """The share of a framework's controls implemented on ``as_of`` (whole percent)."""
    return framework_coverage_on(library_id, as_of).percent
