"""The catalogues section: ATT&CK coverage and framework blocks."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Spacer

from app.reports.pdf.layout import (
    FRAME_WIDTH,
    _heading,
    _long_date,
    _more,
    _p,
    _table,
)
from app.reports.quarter_report.catalogue_values import CatalogueBlock, CatalogueSection
from app.reports.quarter_report.values import QuarterReport, count


def _attack_block(report: QuarterReport, block: CatalogueBlock) -> list:
    as_of = report.as_of.isoformat()
    parts = [
        _heading(f"{block.name}: ATT&CK coverage", 1),
        _table(
            ["Figure", f"On {_long_date(report.as_of)}"],
            [
                ["Techniques with an open threat", count(block.threatened)],
                ["Techniques mitigated by a deployed countermeasure", count(block.covered)],
                ["Threatened techniques with no deployed countermeasure", count(block.exposed)],
                ["Tactics with no deployed countermeasure", count(len(block.tactics_uncovered))],
            ],
            [FRAME_WIDTH - 120, 120],
        ),
        Spacer(1, 4),
        _table(
            ["Tactic", "Techniques", "Threatened", "Mitigated"],
            [
                [t.name, count(t.techniques), count(t.threatened), count(t.mitigated)]
                for t in block.tactics
            ],
            [FRAME_WIDTH - 210, 70, 70, 70],
        ),
    ]
    if block.exposed_techniques:
        parts += [
            Spacer(1, 4),
            _table(
                ["Exposed technique (worst residual first)", "Open threats", "Worst residual"],
                [
                    [
                        f"{t.ref} {t.name}",
                        count(t.threats),
                        "-" if t.worst_residual is None else str(t.worst_residual),
                    ]
                    for t in block.exposed_techniques
                ],
                [FRAME_WIDTH - 160, 80, 80],
            ),
        ]
        parts += _more(
            block.exposed_more,
            "exposed techniques",
            f"the ATT&CK matrix (/catalogues/{block.library_id}/matrix) shows them all "
            f"as of {as_of}",
        )
    if block.trend:
        parts += [
            Spacer(1, 4),
            _table(
                ["Quarter end", "Threatened techniques with no deployed countermeasure"],
                [[label, count(value)] for label, value in block.trend],
                [100, FRAME_WIDTH - 100],
            ),
        ]
    return parts


def _framework_block(report: QuarterReport, block: CatalogueBlock) -> list:
    parts = [
        _heading(f"{block.name}: controls implemented", 1),
        _p(
            f"{block.percent}% of the framework's controls ({count(block.implemented)} of "
            f"{count(block.controls)}) are implemented by a countermeasure deployed on "
            f"{_long_date(report.as_of)}.",
            "body",
        ),
        Spacer(1, 4),
        _table(
            ["Group", "Controls", "Implemented", "Share"],
            [[name, count(n), count(done), f"{share}%"] for name, n, done, share in block.groups],
            [FRAME_WIDTH - 210, 70, 70, 70],
        ),
    ]
    if block.trend:
        parts += [
            Spacer(1, 4),
            _table(
                ["Quarter end", "Controls implemented"],
                [[label, f"{value}%"] for label, value in block.trend],
                [100, FRAME_WIDTH - 100],
            ),
        ]
    return parts


def _catalogues_section(report: QuarterReport, section: CatalogueSection) -> list:
    parts = [CondPageBreak(80 * mm), _heading("ATT&CK and control frameworks")]
    if not section.blocks:
        return parts + [_p("The catalogue the key results link is no longer imported.", "body")]
    for block in section.blocks:
        if block.kind == "attack":
            parts += _attack_block(report, block)
        else:
            parts += _framework_block(report, block)
    return parts
