"""A hand-filled quarter report with the seed deck's Front Line Defenses figures."""

from __future__ import annotations

from datetime import date

from app.domain.quarters import Quarter
from app.domain.scoring import DEFAULT_MATRIX, Level, heatmap_counts
from app.models.okrs import Rating
from app.reports.quarter_report.values import (
    CountermeasureLine,
    CountermeasureSection,
    CoverageSection,
    HeatMap,
    KrCell,
    KrLine,
    QuarterReport,
    ReviewLine,
    RiskSection,
    ThreatLine,
    TopThreatTreatment,
    TrendPoint,
)

STATEMENT = (
    "Our infrastructure and data are staffed, secured and provisioned appropriately in each "
    "area to successfully prevent or handle malicious attacks, the unavailability of one system "
    "component, or the unavailability of a staff member."
)

# Key result | goal | Q1 | Q2 | Q3 | Q4, as the deck has them.
DECK_ROWS = [
    (
        "KR1",
        "We will plan (by end of Q3), build (Q4) a second EU data center, to better serve EMEA "
        "users (by end of FY21/22 Q1). Baseline: one EU data center",
        "Two EU data centers",
        "1 EU data center (planning not started yet)",
        "1 EU data center Shortlist of cities prepared",
    ),
    (
        "KR2",
        "The number of staff members solely responsible for a system or piece of software in "
        "production is reduced by 50%, from 8 to 4, by end of Q4. Baseline: 0 SPoF positions "
        "filled",
        "Hire for 4 SPoF positions",
        "0% filled 1 hiring process in final stages",
        "25% filled 4 SPOF positions in active hiring",
    ),
    (
        "KR3",
        "Implement a threat identification and risk treatment program (Q1) and deploy effective "
        "countermeasures for the top 2 threats and risks per quarter thereafter. Baseline: "
        "Partial risk management policy and 0 threat intelligence feeds.",
        "6 threat and risk countermeasures deployed",
        "Completed Q1 items",
        "4 countermeasures deployed",
    ),
]


REGISTER_VALUES = {
    "KR2": ((0, "0 of 4 positions filled"), (1, "1 of 4 positions filled")),
    "KR3": ((2, "2 countermeasures deployed"), (4, "4 countermeasures deployed")),
}


def _value(code: str, index: int) -> tuple[float | None, str]:
    if code not in REGISTER_VALUES:
        return None, ""
    return REGISTER_VALUES[code][index]


def deck_report(threat_count: int = 30, list_rows: int = 5) -> QuarterReport:
    key_results = []
    for code, statement, goal, q1, q2 in DECK_ROWS:
        key_results.append(
            KrLine(
                code=code,
                title=f"{code}: {statement}",
                goal=goal,
                cells=(
                    KrCell(q1, Rating.DONE if code == "KR3" else Rating.ON_TRACK, *_value(code, 0)),
                    KrCell(
                        q2, Rating.AT_RISK if code == "KR1" else Rating.ON_TRACK, *_value(code, 1)
                    ),
                    KrCell(),
                    KrCell(),
                ),
                linked=code in REGISTER_VALUES,
            )
        )
    pairs = [((i % 5) + 1, ((i * 3) % 5) + 1) for i in range(threat_count)]
    residual_pairs = [(max(1, lk - 1), im) for lk, im in pairs]
    top = [
        ThreatLine(
            rank=i + 1,
            id=i + 1,
            title=title,
            inherent_score=20 - i,
            residual_score=16 - i,
            level=Level.CRITICAL if i == 0 else Level.HIGH,
            treatment="Mitigate",
            previous_residual=None if i == 3 else 16 - i + (i % 2),
            previous_rank=None if i == 3 else i + 1,
        )
        for i, title in enumerate(
            [
                "Coordinated disinformation campaign on a breaking news article",
                "Loss of the Amsterdam data center",
                "Account takeover of an administrator",
                "Supply-chain compromise of a deployment dependency",
                "DDoS against the edge caches",
            ]
        )
    ]
    return QuarterReport(
        objective_id=1,
        objective_title="Front Line Defenses",
        statement=STATEMENT,
        narrative=(
            "We've started planning for our 2nd EMEA data center and analyzed options for EU "
            "data center locations against requirements.\n"
            "We've strengthened our MediaWiki & Kubernetes knowledge & capacity in the SRE "
            "Service Ops team; one SPOF staff member position filled, four additional SPOF "
            "positions are in active hiring."
        ),
        department="Technology",
        quarter=Quarter(2020, 2),
        as_of=date(2020, 12, 31),
        key_results=key_results,
        risk=RiskSection(
            inherent=HeatMap("inherent", heatmap_counts(pairs), DEFAULT_MATRIX),
            residual=HeatMap("residual", heatmap_counts(residual_pairs), DEFAULT_MATRIX),
            top_threats=top,
            open_critical=1,
            overdue_count=list_rows + 3,
            overdue=[
                ReviewLine(100 + i, f"Overdue threat {i}", date(2020, 11, i + 1), "Sam Security")
                for i in range(list_rows)
            ],
            level_counts={Level.CRITICAL: 1, Level.HIGH: 4},
        ),
        countermeasures=CountermeasureSection(
            deployed_in_quarter=2,
            deployed_to_date=4,
            quarter_target=2,
            yearly_goal=6,
            deployed=[
                CountermeasureLine(
                    1, "Rate limiting at the edge", date(2020, 11, 3), (top[4].title,), 6
                ),
                CountermeasureLine(
                    2, "Hardware keys for administrators", date(2020, 12, 10), (top[2].title,), 8
                ),
            ],
            top_treated=[
                TopThreatTreatment(top[2].title, 12, ("Hardware keys for administrators",)),
                TopThreatTreatment(top[4].title, 12, ("Rate limiting at the edge",)),
            ],
            slipped=[CountermeasureLine(3, "Second site failover drill", None)],
            slipped_count=1,
        ),
        coverage=CoverageSection(
            spof_staff=7,
            spof_systems=9,
            uncovered=1,
            sole_responsible=[
                (f"Staff member {i}", (f"System {i}a", f"System {i}b")) for i in range(list_rows)
            ],
            uncovered_systems=[("Legacy OTRS", "High")],
            trend=[TrendPoint("FY20-21 Q1", 8, 10, 1), TrendPoint("FY20-21 Q2", 7, 9, 1)],
            pipeline=[
                ("Planned", 0),
                ("Active hiring", 4),
                ("Final stages", 0),
                ("Filled", 1),
                ("Cancelled", 0),
            ],
            positions_filled=1,
            positions_active_hiring=4,
            positions_final_stages=0,
            positions_goal=4,
        ),
    )
