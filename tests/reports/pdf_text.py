"""Reading a report PDF back as text, the way a test (or a reader's tool) sees it."""

from __future__ import annotations

import io
import re

import pypdf


def pages_text(pdf: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [page.extract_text() or "" for page in reader.pages]


def flat(text: str) -> str:
    """Whitespace-insensitive: wrapping inside a table cell only changes line breaks."""
    return re.sub(r"\s+", " ", text).strip()


def kr_page_text(pdf: bytes) -> str:
    for text in pages_text(pdf):
        if "Key Results" in text:
            return flat(text)
    raise AssertionError("no page holds the key-result table")


def assert_cells_in_order(text: str, cells: list[str]) -> None:
    """Every cell's text appears, in this order, in the page's flattened text."""
    position = 0
    for cell in cells:
        found = text.find(flat(cell), position)
        assert found >= 0, f"cell {cell!r} not found after position {position} in {text!r}"
        position = found + len(flat(cell))
