"""Catalogue coverage laid out as plain values: the ATT&CK matrix (tactic columns of
technique cells) and a control framework's groups, with their percentages. No database and
no Flask here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.domain.catalogues import SUB_TECHNIQUE, TACTIC, TECHNIQUE, Entry, ref_key

# ---------------------------------------------------------------- coverage


@dataclass(frozen=True)
class CellFigures:
    """What the register holds against one technique (its sub-techniques included)."""

    threats: int = 0
    worst_residual: int | None = None
    countermeasures: int = 0


@dataclass(frozen=True)
class TechniqueCell:
    ref: str
    name: str
    threats: int
    worst_residual: int | None
    countermeasures: int
    sub_techniques: int = 0
    deprecated: bool = False
    revoked: bool = False

    @property
    def state(self) -> str:
        """covered (a deployed countermeasure), exposed (threats, none deployed), or quiet."""
        if self.countermeasures:
            return "covered"
        if self.threats:
            return "exposed"
        return "quiet"


@dataclass(frozen=True)
class TacticColumn:
    ref: str
    name: str
    cells: tuple[TechniqueCell, ...]

    @property
    def threatened(self) -> int:
        return sum(1 for c in self.cells if c.threats)

    @property
    def covered(self) -> int:
        return sum(1 for c in self.cells if c.countermeasures)


@dataclass(frozen=True)
class AttackCoverage:
    columns: tuple[TacticColumn, ...] = ()
    techniques: int = 0
    threatened: int = 0
    covered: int = 0
    exposed: int = 0  # threatened techniques with no deployed countermeasure
    tactics_uncovered: tuple[str, ...] = field(default=())  # tactics with none deployed
    version: str = ""  # the library version laid out

    @property
    def covered_percent(self) -> int:
        return percent(self.threatened - self.exposed, self.threatened)


def percent(part: int, whole: int) -> int:
    """A share as a whole percentage, rounded half up; 0 of 0 is 0%."""
    if whole <= 0:
        return 0
    return (200 * part + whole) // (2 * whole)


def attack_coverage(
    entries: Iterable[Entry], figures: Mapping[str, CellFigures], *, show_retired: bool = False
) -> AttackCoverage:
    """The matrix: one column per tactic, one cell per technique in each of its tactics,
    with the figures of the technique (``figures`` already rolls sub-techniques up).

    Revoked and deprecated techniques are left out unless something still maps to them
    (or ``show_retired``), so an old mapping stays visible, marked.
    """
    entries = list(entries)
    tactics = sorted((e for e in entries if e.kind == TACTIC), key=lambda e: (e.position, e.ref))
    subs: dict[str, int] = {}
    for e in entries:
        if e.kind == SUB_TECHNIQUE and e.parent_ref and not (e.revoked or e.deprecated):
            subs[e.parent_ref] = subs.get(e.parent_ref, 0) + 1
    by_tactic: dict[str, list[TechniqueCell]] = {t.ref: [] for t in tactics}
    counted: dict[str, TechniqueCell] = {}
    for e in sorted(entries, key=lambda e: (e.name.lower(), e.ref)):
        if e.kind != TECHNIQUE:
            continue
        f = figures.get(e.ref, CellFigures())
        retired = e.revoked or e.deprecated
        if retired and not show_retired and not (f.threats or f.countermeasures):
            continue
        cell = TechniqueCell(
            e.ref,
            e.name,
            f.threats,
            f.worst_residual,
            f.countermeasures,
            subs.get(e.ref, 0),
            e.deprecated,
            e.revoked,
        )
        for tactic in e.tactics:
            if tactic in by_tactic:
                by_tactic[tactic].append(cell)
                counted[e.ref] = cell
    columns = tuple(TacticColumn(t.ref, t.name, tuple(by_tactic[t.ref])) for t in tactics)
    threatened = [c for c in counted.values() if c.threats]
    return AttackCoverage(
        columns=columns,
        techniques=sum(1 for c in counted.values() if not (c.revoked or c.deprecated)),
        threatened=len(threatened),
        covered=sum(1 for c in counted.values() if c.countermeasures),
        exposed=sum(1 for c in threatened if not c.countermeasures),
        tactics_uncovered=tuple(c.ref for c in columns if not c.covered),
    )


@dataclass(frozen=True)
class ControlGroup:
    ref: str
    name: str
    controls: int
    implemented: int

    @property
    def percent(self) -> int:
        return percent(self.implemented, self.controls)


@dataclass(frozen=True)
class FrameworkCoverage:
    controls: int
    implemented: int
    groups: tuple[ControlGroup, ...] = ()
    implemented_refs: tuple[str, ...] = ()

    @property
    def percent(self) -> int:
        return percent(self.implemented, self.controls)


def framework_coverage(entries: Iterable[Entry], implemented: Iterable[str]) -> FrameworkCoverage:
    """The share of a framework's controls implemented: its leaf controls (entries with no
    child), deprecated ones left out, that a deployed countermeasure implements; grouped by
    their top-level entry (Annex A's themes)."""
    entries = [e for e in entries if not (e.deprecated or e.revoked)]
    parents = {e.parent_ref for e in entries if e.parent_ref}
    by_ref = {e.ref: e for e in entries}
    leaves = [e for e in entries if e.ref not in parents]
    done = set(implemented)

    def top(e: Entry) -> Entry:
        while e.parent_ref and e.parent_ref in by_ref:
            e = by_ref[e.parent_ref]
        return e

    groups: dict[str, list[Entry]] = {}
    for leaf in sorted(leaves, key=lambda e: (e.position, ref_key(e.ref))):
        groups.setdefault(top(leaf).ref, []).append(leaf)
    ordered = sorted(groups, key=lambda r: (by_ref[r].position, ref_key(r)))
    return FrameworkCoverage(
        controls=len(leaves),
        implemented=sum(1 for e in leaves if e.ref in done),
        groups=tuple(
            ControlGroup(
                ref,
                by_ref[ref].name if groups[ref][0].ref != ref else "Controls",
                len(groups[ref]),
                sum(1 for e in groups[ref] if e.ref in done),
            )
            for ref in ordered
        ),
        implemented_refs=tuple(sorted((e.ref for e in leaves if e.ref in done), key=ref_key)),
    )
