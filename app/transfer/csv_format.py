"""The CSV layer: columns, cell escaping, reading a file into checked cells, writing one.

A file is UTF-8 (a byte-order mark is accepted) with a header line naming the columns.
Cells that a spreadsheet would run as a formula (starting with = + - @ tab or CR) are
written with a leading apostrophe and read back without it, so a round trip is exact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.transfer.cells import text_writer

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def _needs_escape(text: str) -> bool:
    if not text:
        return False
    if text.startswith(FORMULA_STARTS):
        return True
    # An apostrophe before something escapable is escaped too, so reading back is exact.
    return text.startswith(ESCAPE) and _needs_escape(text[1:])


def escape_cell(text: str) -> str:
    return ESCAPE + text if _needs_escape(text) else text


def unescape_cell(text: str) -> str:
    if text.startswith(ESCAPE) and _needs_escape(text[1:]):
        return text[1:]
    return text


@dataclass(frozen=True, order=True)
class CellError:
    """One refused cell (or row, or file): line 1 is the header line."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        if self.column:
            where += f", column “{self.column}”"
        return f"{where}: {self.message}"


class FileRefusedError(ValueError):
    """The file as a whole cannot be read (encoding, header): nothing was looked at further."""

    def __init__(self, errors: list[CellError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@dataclass
class Column:
    """One column of an entity's export and import: its header, where its value comes
    from, how it is written and read back.

    ``value()`` is the SQL expression of the cell (the export selects plain rows, one
    expression per column); ``kind`` says how the value is written (``cells.WRITERS``);
    ``parse(text, lookups) -> value`` reads it, raising ValueError with a message for the
    user. ``key`` is the name of the value in the row dict handed to the entity's writer.
    A column without ``parse`` is exported only: an import accepts and ignores it.
    """

    header: str
    key: str
    value: Callable[[], Any]
    parse: Callable[[str, Any], Any] | None
    required: bool = False
    help: str = ""
    kind: str = "text"
    # A column added after files were first written: a file without it reads empty cells.
    may_be_absent: bool = False

    @property
    def imported(self) -> bool:
        return self.parse is not None


@dataclass
class ParsedRow:
    line: int
    values: dict[str, Any] = field(default_factory=dict)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRefusedError(
            [
                CellError(
                    0,
                    "",
                    f"The file is not UTF-8 text (unexpected byte 0x{data[error.start]:02x} at "
                    f"position {error.start}). Save it as “CSV UTF-8” and try again.",
                )
            ]
        ) from None


def read_cells(text: str, columns: list[Column]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line, {header: unescaped cell}) for every data row; checks the header first."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise FileRefusedError([CellError(0, "", "The file is empty.")]) from None
    except csv.Error as error:
        raise FileRefusedError([CellError(1, "", f"Unreadable header: {error}")]) from None
    header = [h.strip() for h in header]
    wanted = [c.header for c in columns]
    errors = [
        CellError(1, c.header, f"Missing column “{c.header}”.")
        for c in columns
        if c.imported and not c.may_be_absent and c.header not in header
    ]
    errors += [
        CellError(1, name, f"Unknown column “{name}”; expected: {', '.join(wanted)}.")
        for name in header
        if name and name not in wanted
    ]
    duplicates = {h for h in header if h and header.count(h) > 1}
    errors += [CellError(1, name, "This column appears twice.") for name in sorted(duplicates)]
    if errors:
        raise FileRefusedError(errors)
    line = reader.line_num
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank lines are allowed
            if len(cells) != len(header):
                yield start, {"__width__": f"{len(cells)} cells where the header has {len(header)}"}
                continue
            yield start, {h: unescape_cell(cell) for h, cell in zip(header, cells, strict=True)}
    except csv.Error as error:
        raise FileRefusedError([CellError(line + 1, "", f"Unreadable CSV: {error}")]) from None


def parse_rows(
    text: str, columns: list[Column], lookups: Any, progress: Callable[[int], None] | None = None
) -> tuple[list[ParsedRow], list[CellError]]:
    """Every row parsed; every cell error collected (nothing stops at the first one)."""
    rows: list[ParsedRow] = []
    errors: list[CellError] = []
    for line, cells in read_cells(text, columns):
        if "__width__" in cells:
            errors.append(CellError(line, "", f"Wrong number of cells: {cells['__width__']}."))
            continue
        row = ParsedRow(line)
        for column in columns:
            if column.parse is None:  # exported only
                continue
            raw = cells.get(column.header, "")
            if column.required and not raw.strip():
                errors.append(CellError(line, column.header, "Required; the cell is empty."))
                continue
            try:
                row.values[column.key] = column.parse(raw, lookups)
            except ValueError as error:
                errors.append(CellError(line, column.header, str(error)))
        rows.append(row)
        if progress is not None:
            progress(1)
    return rows, errors


def _text_cell(value) -> str:
    return "" if value is None else escape_cell(str(value))


def _cell_writer(kind: str):
    # Numbers, dates, enum labels and quarter labels never start like a formula: only free
    # text (and names) is escaped.
    return _text_cell if kind == "text" else text_writer(kind)


def csv_chunks(columns: list[Column], rows: Iterable[tuple], every: int = 1000) -> Iterator[str]:
    """The CSV text of plain rows (one value per column, as selected), in pieces of
    ``every`` rows, for streaming a large export."""
    writers = [_cell_writer(c.kind) for c in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    for n, row in enumerate(rows, start=1):
        writer.writerow([w(v) for w, v in zip(writers, row, strict=True)])
        if n % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
