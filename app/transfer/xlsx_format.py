"""The XLSX layer: the same columns and rows as the CSV, as typed cells of one sheet.

openpyxl in write-only mode streams each row to a temporary file, so memory stays flat in
the number of rows. Numbers are numbers, dates are dates; text is always stored as text
(never a formula, whatever it starts with), with the characters XML cannot hold removed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.transfer.cells import text_writer
from app.transfer.csv_format import Column

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WIDTHS = {"date": 12, "int": 10, "bool": 8, "enum": 16, "quarter": 12}


def _text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value) if ILLEGAL_CHARACTERS_RE.search(value) else value


def _cell_writer(sheet, kind: str):
    """value -> what the row holds: plain values (openpyxl types them; a date gets the
    yyyy-mm-dd format), a cell only for text a spreadsheet would read as a formula."""
    if kind in ("int", "bool", "date"):
        return lambda v: v
    as_text = text_writer(kind)

    def text_cell(v):
        if v is None:
            return None
        text = _text(as_text(v))
        if not text.startswith("="):
            return text
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"  # a text cell even when it starts with "=": never a formula
        return cell

    return text_cell


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
    writers = [_cell_writer(sheet, column.kind) for column in columns]
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
