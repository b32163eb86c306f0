"""The countermeasures section: treatments, deployments and their residual scores."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak

from app.reports.pdf.layout import FRAME_WIDTH, INK, _heading, _listed, _p, _table
from app.reports.quarter_report.values import CountermeasureSection, QuarterReport, count


def _treatment_rows(cm: CountermeasureSection) -> tuple[list[list], list]:
    """One block per top threat: start, each recorded change, end (start + changes = end)."""
    rows: list[list] = []
    style: list = []
    for t in cm.top_treated:
        first = len(rows) + 1
        rows.append(
            [
                f"#{t.rank} {t.title}",
                "start",
                "",
                str(t.residual_score),
                "residual score at the quarter's start",
            ]
        )
        for step in t.steps:
            if step.countermeasure:
                what = f"Deployed: {step.countermeasure} (credited {count(-step.change)})"
            else:
                what = "Re-scored by hand" + (f": {step.note}" if step.note else " (no note)")
            rows.append(["", step.on.isoformat(), f"{step.change:+d}", str(step.after), what])
        total = (t.end_residual or 0) - t.residual_score
        treated = ", ".join(t.treated_by) or "no countermeasure deployed against it in the quarter"
        rows.append(["", "end", f"{total:+d}", str(t.end_residual), f"Treated by: {treated}"])
        style += [
            ("SPAN", (0, first), (0, len(rows))),
            ("LINEABOVE", (0, first), (-1, first), 0.8, INK),
        ]
    return rows, style


def _countermeasures_section(report: QuarterReport, cm: CountermeasureSection) -> list:
    parts = [CondPageBreak(80 * mm), _heading("Countermeasures")]
    q = report.quarter
    source = f" ({cm.target_source})" if cm.target_source else ""
    if cm.quarter_target is None:
        against = f"no target: the programme's first target quarter comes later{source}"
    else:
        against = f"target {count(cm.quarter_target)}{source}"
    parts.append(
        _table(
            ["Figure", "Value", "Against"],
            [
                [f"Deployed in {q.label}", count(cm.deployed_in_quarter), against],
                [
                    f"Deployed to date in {q.fiscal_year_label}",
                    count(cm.deployed_to_date),
                    f"yearly goal {count(cm.yearly_goal)}{source}",
                ],
                [f"Planned for {q.label} and not deployed", count(cm.slipped_count), ""],
            ],
            [FRAME_WIDTH - 250, 60, 190],
        )
    )
    parts += _top_threats_treated(report, cm)
    parts += _deployed_and_slipped(report, cm)
    return parts


def _top_threats_treated(report: QuarterReport, cm: CountermeasureSection) -> list:
    """The top threats at the quarter's start, each with the changes of its residual score."""
    rows, style = _treatment_rows(cm)
    return _listed(
        f"Top threats at the start of {report.quarter.label} and their treatment",
        "No open threats were scored at the start of the quarter.",
        rows,
        ["Threat", "Date", "Change", "Residual", "Recorded as"],
        [130, 58, 46, 50, FRAME_WIDTH - 284],
        _p(
            "Each block starts from the residual score in force on the quarter's first day; "
            "every recorded change follows, so the start plus the changes gives the end.",
            "note",
        ),
        extra=style,
    )


def _deployed_and_slipped(report: QuarterReport, cm: CountermeasureSection) -> list:
    """The countermeasures deployed in the quarter, and those planned for it that slipped."""
    q = report.quarter
    where = f"the quarter's page (/quarters/{q.slug}) lists every one"
    deployed = [
        [
            c.title,
            c.deployed_on.isoformat() if c.deployed_on else "-",
            ", ".join(c.top_threats) or "-",
            "-" if c.reduction is None else count(c.reduction),
        ]
        for c in cm.deployed
    ]
    return _listed(
        f"Deployed in {q.label}",
        "No countermeasure was deployed in the quarter.",
        deployed,
        [
            "Countermeasure (largest reduction first)",
            "Deployed on",
            "Top threats it treats",
            "Residual reduction",
        ],
        [FRAME_WIDTH - 70 - 170 - 60, 70, 170, 60],
        more=(cm.deployed_more, "countermeasures deployed", where),
    ) + _listed(
        "Slipped",
        "Nothing planned for the quarter slipped.",
        [[c.title] for c in cm.slipped],
        [f"Planned for {q.label}, not deployed"],
        [FRAME_WIDTH],
        more=(cm.slipped_more, "slipped countermeasures", where),
    )
