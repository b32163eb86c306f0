"""The report's catalogue pages as plain values: each linked library's coverage (ATT&CK
tactics and exposed techniques, or a control framework's implemented controls)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TacticLine:
    name: str
    techniques: int
    threatened: int
    mitigated: int


@dataclass(frozen=True)
class ExposedTechnique:
    ref: str
    name: str
    threats: int
    worst_residual: int | None


@dataclass
class CatalogueBlock:
    """One linked library's coverage on the report's date, and at each quarter end."""

    library_id: int
    name: str
    kind: str  # "attack" or "framework"
    # ATT&CK
    threatened: int = 0
    covered: int = 0
    exposed: int = 0
    tactics: list[TacticLine] = field(default_factory=list)
    tactics_uncovered: list[str] = field(default_factory=list)
    exposed_techniques: list[ExposedTechnique] = field(default_factory=list)
    exposed_more: int = 0
    # Control framework
    controls: int = 0
    implemented: int = 0
    percent: int = 0
    groups: list[tuple[str, int, int, int]] = field(default_factory=list)
    # (quarter label, the block's headline figure at its end) for the year to date
    trend: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class CatalogueSection:
    blocks: list[CatalogueBlock] = field(default_factory=list)
