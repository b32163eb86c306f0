"""The catalogues section: the ATT&CK and control framework libraries a key result links."""

from __future__ import annotations

from datetime import date

from app.domain.quarters import Quarter, quarters_of_fiscal_year
from app.extensions import db
from app.models.okrs import Objective
from app.reports.quarter_report.catalogue_values import (
    CatalogueBlock,
    CatalogueSection,
    ExposedTechnique,
    TacticLine,
)
from app.reports.quarter_report.sections import CATALOGUE_METRIC_NAMES, LIST_CAP


def _linked_libraries(objective: Objective) -> list[int]:
    found: list[int] = []
    for kr in objective.key_results:
        base, _, raw = (kr.metric or "").partition(":")
        if base in CATALOGUE_METRIC_NAMES and raw.isdigit() and int(raw) not in found:
            found.append(int(raw))
    return found


def gather_catalogues(objective: Objective, quarter: Quarter, as_of: date) -> CatalogueSection:
    """The coverage of each library the objective's key results link, from the figures the
    catalogue pages show (``app.catalogues.figures``)."""
    from app.catalogues import figures
    from app.models.catalogues import Library, LibraryKind

    quarters = [
        q for q in quarters_of_fiscal_year(quarter.fiscal_year, quarter.start_month) if q <= quarter
    ]
    ends = [(q.label, q.last_day if q != quarter else as_of) for q in quarters]
    section = CatalogueSection()
    for library_id in _linked_libraries(objective):
        library = db.session.get(Library, library_id)
        if library is None:
            continue
        block = CatalogueBlock(library.id, library.name, library.kind.value)
        if library.kind == LibraryKind.ATTACK:
            matrix = figures.attack_coverage_on(library.id, as_of)
            block.threatened, block.covered = matrix.threatened, matrix.covered
            block.exposed = matrix.exposed
            block.tactics = [
                TacticLine(c.name, len(c.cells), c.threatened, c.covered) for c in matrix.columns
            ]
            names = {c.ref: c.name for c in matrix.columns}
            block.tactics_uncovered = [names[ref] for ref in matrix.tactics_uncovered]
            exposed = {
                cell.ref: cell
                for column in matrix.columns
                for cell in column.cells
                if cell.state == "exposed"
            }
            ordered = sorted(
                exposed.values(), key=lambda c: (-(c.worst_residual or 0), -c.threats, c.ref)
            )
            block.exposed_techniques = [
                ExposedTechnique(c.ref, c.name, c.threats, c.worst_residual)
                for c in ordered[:LIST_CAP]
            ]
            block.exposed_more = max(0, len(ordered) - LIST_CAP)
            block.trend = [
                (label, figures.exposed_techniques(library.id, day)) for label, day in ends
            ]
        else:
            framework = figures.framework_coverage_on(library.id, as_of)
            block.controls, block.implemented = framework.controls, framework.implemented
            block.percent = framework.percent
            block.groups = [
                (f"{g.ref} {g.name}", g.controls, g.implemented, g.percent)
                for g in framework.groups
            ]
            block.trend = [
                (label, figures.controls_implemented_percent(library.id, day))
                for label, day in ends
            ]
        section.blocks.append(block)
    return section
