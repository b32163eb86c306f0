"""The register areas a report holds: the sections a key result's metric brings, and the
limits on the lists they print."""

from __future__ import annotations

from app.models.okrs import Objective

TOP_THREATS = 10
LIST_CAP = 15

RISK = "risk"
COUNTERMEASURES = "countermeasures"
COVERAGE = "coverage"
HIRING = "hiring"
ALL_AREAS = frozenset({RISK, COUNTERMEASURES, COVERAGE, HIRING})
# Catalogue coverage (ATT&CK, control frameworks) is shown only for the libraries a key
# result links (its metric names the library), never in a report without an objective.
CATALOGUES = "catalogues"

# The register areas a key result's metric draws on. Countermeasures treat the top
# threats, so a countermeasure key result brings the risk section with it; SPOF positions
# are opened to remove SPOFs, so a hiring key result brings the coverage section.
METRIC_AREAS: dict[str, frozenset[str]] = {
    "spof_staff": frozenset({COVERAGE}),
    "uncovered_systems": frozenset({COVERAGE}),
    "spof_positions_filled": frozenset({HIRING, COVERAGE}),
    "spof_positions_active_hiring": frozenset({HIRING, COVERAGE}),
    "countermeasures_deployed": frozenset({COUNTERMEASURES, RISK}),
    "countermeasures_deployed_to_date": frozenset({COUNTERMEASURES, RISK}),
    "top_threats_treated": frozenset({COUNTERMEASURES, RISK}),
    "open_critical_risks": frozenset({RISK}),
    "overdue_reviews": frozenset({RISK}),
}
COUNTERMEASURE_METRICS = ("countermeasures_deployed_to_date", "countermeasures_deployed")


def metric_areas(metric: str | None) -> frozenset[str]:
    """The register areas a key result's metric draws on."""
    name = metric or ""
    if name.partition(":")[0] in CATALOGUE_METRIC_NAMES:
        return frozenset({CATALOGUES})
    return METRIC_AREAS.get(name, frozenset())


CATALOGUE_METRIC_NAMES = ("attack_exposed", "attack_tactics_uncovered", "controls_implemented")


def areas_of(objective: Objective | None) -> frozenset[str]:
    """The register areas an objective's key results are linked to (all without one)."""
    if objective is None:
        return ALL_AREAS
    found: set[str] = set()
    for kr in objective.key_results:
        found |= metric_areas(kr.metric)
    return frozenset(found)
