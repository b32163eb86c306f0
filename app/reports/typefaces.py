"""The report's embedded fonts, and text split into runs each font can print.

DejaVu Sans (regular and bold) prints Latin, Greek, Cyrillic and most symbols; Droid Sans
Fallback prints Chinese, Japanese and Korean. ReportLab has no automatic font fallback, so
text is cut into runs: characters DejaVu lacks go to the fallback font. Both are TrueType
files committed in ``app/reports/fonts`` (licences in ``LICENSE.txt``) and embedded as
subsets, so the PDF reads the same on any machine.
"""

from __future__ import annotations

import functools
from itertools import groupby
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
SANS = "FrontlineSans"
SANS_BOLD = "FrontlineSans-Bold"
FALLBACK = "FrontlineFallback"


@functools.cache
def register_fonts() -> None:
    """Register DejaVu Sans and its bold as one family (once per process)."""
    pdfmetrics.registerFont(TTFont(SANS, FONT_DIR / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(TTFont(SANS_BOLD, FONT_DIR / "DejaVuSans-Bold.ttf"))
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(SANS, bold, italic, SANS_BOLD if bold else SANS)


@functools.cache
def _register_fallback() -> None:
    # Loaded only when a text needs it: the file is ten times DejaVu's size.
    pdfmetrics.registerFont(TTFont(FALLBACK, FONT_DIR / "DroidSansFallback.ttf"))
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(FALLBACK, bold, italic, FALLBACK)


@functools.cache
def _sans_chars() -> frozenset[int]:
    register_fonts()
    # SANS is a TrueType font, whose face maps characters to glyphs; the stubs type it as Font.
    return frozenset(pdfmetrics.getFont(SANS).face.charToGlyph)  # type: ignore[attr-defined]


def _needs_fallback(char: str) -> bool:
    return ord(char) not in _sans_chars() and not char.isspace()


def runs(text: str) -> list[tuple[bool, str]]:
    """``text`` as (needs the fallback font, run) pairs, in order."""
    if text.isascii():
        return [(False, text)] if text else []
    pairs = [(fallback, "".join(chars)) for fallback, chars in groupby(text, _needs_fallback)]
    if any(fallback for fallback, _ in pairs):
        _register_fallback()
    return pairs


def markup(text: str) -> str:
    """Paragraph markup printing ``text`` literally: escaped, line breaks kept, fallback runs
    wrapped in the fallback font."""
    parts = []
    for fallback, run in runs(text):
        escaped = escape(run).replace("\r\n", "\n").replace("\n", "<br/>")
        parts.append(f'<font name="{FALLBACK}">{escaped}</font>' if fallback else escaped)
    return "".join(parts)


def font_for(text: str, font: str) -> str:
    """One font for a chart label: the fallback when any character needs it."""
    return FALLBACK if any(fallback for fallback, _ in runs(text)) else font


def text_width(text: str, font: str, size: float) -> float:
    return sum(
        pdfmetrics.stringWidth(run, FALLBACK if fallback else font, size)
        for fallback, run in runs(text)
    )


def draw_text(canvas, x: float, y: float, text: str, font: str, size: float, anchor="start"):
    """Draw ``text`` on a canvas run by run (anchor "start" or "end")."""
    if anchor == "end":
        x -= text_width(text, font, size)
    for fallback, run in runs(text):
        name = FALLBACK if fallback else font
        canvas.setFont(name, size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, name, size)
