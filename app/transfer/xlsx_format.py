"""The XLSX layer: the same columns and rows as the CSV, as typed cells of one sheet.

openpyxl in write-only mode streams each row to a temporary file, so memory stays flat in
the number of rows. Numbers are numbers, dates are dates; text is always stored as text
(never a formula, whatever it starts with), with the characters XML cannot hold removed.

openpyxl builds a cell object per value and writes it through several layers (some 20 µs a
cell: most of a 100,000-row export); the data rows are written here instead, each as its
XML text parsed once by lxml into the sheet's stream, the cells as openpyxl writes them
(inline strings, numbers, booleans, dates as serial numbers in openpyxl's own date style).
The header row, the styles, the frozen pane and the package stay openpyxl's.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Iterable
from datetime import date
from typing import IO, Any
from xml.sax.saxutils import escape

from lxml.etree import fromstring  # type: ignore[import-untyped]
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.compat.strings import safe_string
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from app.transfer.cells import text_writer
from app.transfer.csv_format import Column

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WIDTHS = {"date": 12, "int": 10, "bool": 8, "enum": 16, "quarter": 12}


def _text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value) if ILLEGAL_CHARACTERS_RE.search(value) else value


def _cell_writer(kind: str):
    """value -> what the row holds: a plain value (int, bool, date) or its text."""
    if kind in ("int", "bool", "date"):
        return lambda v: v
    as_text = text_writer(kind)
    return lambda v: None if v is None else _text(as_text(v))


class _RowWriter:
    """Writes a row of plain values as a ``<row>`` element of the sheet's XML."""

    def __init__(self, sheet, width: int):
        self.letters = [get_column_letter(i) for i in range(1, width + 1)]
        self.sheet = sheet
        self.epoch = sheet.parent.epoch

    @functools.cached_property
    def date_style(self) -> str:
        # The style openpyxl gives a date cell (yyyy-mm-dd), registered in the workbook.
        day: Any = date(2000, 1, 1)  # a date (not a datetime): yyyy-mm-dd, no time
        return str(WriteOnlyCell(self.sheet, value=day).style_id)

    def __call__(self, xf, values, row_idx: int) -> None:
        number = str(row_idx)
        cells = []
        for letter, value in zip(self.letters, values, strict=True):
            if value is None or value == "":
                continue
            ref = letter + number
            if isinstance(value, str):
                # Text, never a formula, whatever it starts with.
                space = ' xml:space="preserve"' if value != value.strip() else ""
                cells.append(
                    f'<c r="{ref}" t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'
                )
            elif isinstance(value, bool):
                cells.append(f'<c r="{ref}" t="b"><v>{1 if value else 0}</v></c>')
            elif isinstance(value, date):
                serial = safe_string(to_excel(value, self.epoch))
                cells.append(f'<c r="{ref}" s="{self.date_style}" t="n"><v>{serial}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="n"><v>{safe_string(value)}</v></c>')
        # One parse of the row's text in C costs less than building its elements one by one.
        xf.write(fromstring(f'<row r="{number}">{"".join(cells)}</row>'))


def write_xlsx(columns: list[Column], rows: Iterable[tuple], title: str, out: IO[bytes]) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(column.kind, 30)
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    # From here on, rows go to the sheet's XML as they are (see the module's docstring).
    sheet._values_to_row = lambda values, row_idx: values
    sheet._writer.write_row = _RowWriter(sheet, len(columns))
    writers = [_cell_writer(column.kind) for column in columns]
    for row in rows:
        sheet.append([w(v) for w, v in zip(writers, row, strict=True)])
    workbook.save(out)


def xlsx_file(columns: list[Column], rows: Iterable[tuple], title: str) -> IO[bytes]:
    """The workbook in a temporary file (rewound), for sending or copying."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 (handed over: the response closes it)
    try:
        write_xlsx(columns, rows, title, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out
