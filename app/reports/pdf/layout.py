"""The report's page furniture: page sizes, colours, paragraph styles, tables, and the
small text helpers every section uses."""

from __future__ import annotations

from datetime import date

from reportlab.graphics.shapes import STATE_DEFAULTS, Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from app.domain.scoring import Level
from app.models.okrs import Rating
from app.reports.quarter_report.values import count
from app.reports.typefaces import SANS, SANS_BOLD, font_for, markup, register_fonts

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 15 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN
LANDSCAPE_WIDTH = PAGE_HEIGHT - 2 * MARGIN

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#cbd2d9")
HEADER_BG = colors.HexColor("#243b53")

RATING_COLOURS = {
    Rating.ON_TRACK: colors.HexColor("#d3f0dc"),
    Rating.AT_RISK: colors.HexColor("#ffeeba"),
    Rating.OFF_TRACK: colors.HexColor("#f8d0d4"),
    Rating.DONE: colors.HexColor("#cfe2ff"),
}
# The rating as a coloured word on the cover (dark enough to read on white).
RATING_INK = {
    Rating.ON_TRACK: "#1e7b3a",
    Rating.AT_RISK: "#9a6700",
    Rating.OFF_TRACK: "#b42318",
    Rating.DONE: "#1d4ed8",
}
LEVEL_COLOURS = {
    Level.LOW: colors.HexColor("#a8dab5"),
    Level.MEDIUM: colors.HexColor("#ffe08a"),
    Level.HIGH: colors.HexColor("#ffb169"),
    Level.CRITICAL: colors.HexColor("#f28b82"),
}
SERIES_COLOURS = (
    colors.HexColor("#d64545"),
    colors.HexColor("#f0b429"),
    colors.HexColor("#486581"),
)


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle(
        "body", fontName=SANS, fontSize=9.5, leading=13, textColor=INK, spaceBefore=0
    )
    heading = ParagraphStyle(
        "heading", parent=body, fontName=SANS_BOLD, keepWithNext=1, spaceAfter=4
    )
    return {
        "title": ParagraphStyle(
            "title",
            parent=heading,
            fontSize=24,
            leading=30,
            alignment=TA_CENTER,
            spaceAfter=6,
            keepWithNext=0,
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=body, fontSize=14, leading=19, alignment=TA_CENTER, spaceAfter=4
        ),
        "centre": ParagraphStyle("centre", parent=body, alignment=TA_CENTER, textColor=MUTED),
        "marking": ParagraphStyle(
            "marking",
            parent=body,
            fontName=SANS_BOLD,
            alignment=TA_CENTER,
            textColor=colors.HexColor("#9b1c1c"),
        ),
        "h1": ParagraphStyle("h1", parent=heading, fontSize=15, leading=19, spaceBefore=6),
        "h2": ParagraphStyle("h2", parent=heading, fontSize=11.5, leading=15, spaceBefore=9),
        "body": ParagraphStyle("body_spaced", parent=body, spaceAfter=3),
        "note": ParagraphStyle("note", parent=body, fontSize=7.5, leading=9.5, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10),
        "kr": ParagraphStyle("kr", parent=body, fontSize=7.5, leading=9.5),
        "cell_bold": ParagraphStyle(
            "cell_bold", parent=body, fontName=SANS_BOLD, fontSize=8, leading=10
        ),
        "cell_small": ParagraphStyle(
            "cell_small", parent=body, fontSize=7, leading=9, textColor=MUTED
        ),
        "head": ParagraphStyle(
            "head",
            parent=body,
            fontName=SANS_BOLD,
            fontSize=8,
            leading=10,
            textColor=colors.white,
        ),
        "figure": ParagraphStyle(
            "figure", parent=body, fontName=SANS_BOLD, fontSize=16, leading=19
        ),
    }


STYLES = _styles()
# Charts start from ReportLab's default font (Times-Roman, not embedded) unless told.
STATE_DEFAULTS["fontName"] = SANS


def _table_style(commands: list) -> TableStyle:
    """Table commands, with the embedded font for any plain-string cell."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), SANS), *commands])


# Text longer than this cannot be laid out well (a table cell taller than a page, seconds of
# CPU per cell): it is cut with a visible marker. The forms' limits keep real text below it.
TEXT_LIMITS = {"cell": 2_000, "cell_small": 2_000, "body": 10_000}
SHORTENED = " … [shortened here; the full text is in Frontline]"


def _clip(text: str, style: str) -> str:
    limit = TEXT_LIMITS.get(style, 2_000)
    return text if len(text) <= limit else text[:limit].rstrip() + SHORTENED


def _p(text: object, style: str = "cell") -> Paragraph:
    """A paragraph of plain text: escaped (register text is never markup), its line breaks
    kept, characters DejaVu lacks in the fallback font, cut when too long for a page."""
    return Paragraph(markup(_clip(str(text), style)), STYLES[style])


def _heading(text: str, level: int = 0) -> Paragraph:
    """A section heading, kept with what follows and listed in the PDF outline."""
    paragraph = _p(text, "h1" if level == 0 else "h2")
    # Read by the document's afterFlowable; the reportlab stubs know no such attribute.
    paragraph.outline = (text, level)  # type: ignore[attr-defined]
    return paragraph


def _long_date(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def _table(
    header: list[str], rows: list[list], widths: list[float], extra: list | None = None
) -> Table:
    data = [[_p(h, "head") for h in header]] + [
        [cell if isinstance(cell, (Flowable, list)) else _p(cell) for cell in row] for row in rows
    ]
    table = Table(data, colWidths=widths, repeatRows=1, splitInRow=1, hAlign="LEFT")
    table.setStyle(
        _table_style(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
                ("GRID", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                *(extra or []),
            ]
        )
    )
    return table


def _more(more: int, what: str, where: str) -> list:
    """ "… and 1,234 more overdue reviews: <where the rest is>." """
    if more <= 0:
        return []
    return [Spacer(1, 2), _p(f"… and {count(more)} more {what}: {where}.", "note")]


def _listed(
    title: str,
    nothing: str,
    rows: list[list],
    header: list[str],
    widths: list[float],
    *after: Flowable,
    extra: list | None = None,
    more: tuple[int, str, str] = (0, "", ""),
) -> list:
    """A sub-heading, then the table of ``rows`` followed by ``after`` and the "… and N
    more" line (``_more``'s count, what and where), or the sentence saying there is none."""
    parts: list = [_heading(title, 1)]
    if not rows:
        return parts + [_p(nothing, "body")]
    return parts + [_table(header, rows, widths, extra), *after, *_more(*more)]


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{count(n)} {singular if n == 1 else (plural or singular + 's')}"


# ---------------------------------------------------------------- charts


def _fit(text: str, font: str, size: float, width: float, minimum: float = 4.5):
    """Shrink ``text`` to ``width`` (down to ``minimum`` points), then shorten it."""
    font = font_for(text, font)
    while size > minimum and stringWidth(text, font, size) > width:
        size -= 0.25
    if stringWidth(text, font, size) > width:
        while len(text) > 1 and stringWidth(text + "…", font, size) > width:
            text = text[:-1]
        text += "…"
    return text, size


def _label(d: Drawing, x: float, y: float, text: str, ink, bold: bool = False) -> None:
    """A small value label on a white ground, legible over the bars it may cross."""
    font = SANS_BOLD if bold else SANS
    ground = Rect(x - 1, y - 1.5, stringWidth(text, font, 6) + 2, 7.5)
    ground.fillColor, ground.strokeColor = colors.white, None
    d.add(ground)
    d.add(String(x, y, text, fontName=font, fontSize=6, fillColor=ink))
