"""Import and export, shared by the web pages and the command line.

An import reads and checks EVERY row first, collecting each error with its line and
column; only a file without a single error is written, all of it in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from app.extensions import db
from app.transfer.bulk import EntityFormat, Lookups
from app.transfer.csv_format import (
    CellError,
    FileRefusedError,
    ParsedRow,
    csv_chunks,
    decode,
    parse_rows,
)
from app.transfer.entities import FORMATS
from app.transfer.xlsx_format import xlsx_file

EXPORT_BATCH = 2000


def format_for(entity: str) -> EntityFormat:
    try:
        return FORMATS[entity]
    except KeyError:
        raise LookupError(f"Unknown kind of record “{entity}”: use {', '.join(FORMATS)}.") from None


@dataclass
class Checked:
    """What an import would do: the rows it would write, or every reason it will not."""

    entity: str
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def check_file(
    entity: str, data: bytes, progress: Callable[[int], None] | None = None
) -> tuple[Checked, Lookups]:
    fmt = format_for(entity)
    if not fmt.importable:
        raise LookupError(f"{fmt.label} can be exported, not imported.")
    checked = Checked(entity)
    lookups = Lookups()
    try:
        text = decode(data)
        checked.rows, checked.errors = parse_rows(text, fmt.columns, lookups, progress)
    except FileRefusedError as refused:
        checked.errors = refused.errors
        return checked, lookups
    if fmt.check is not None:
        # Rows with a bad cell are still checked across the file, so every error shows at once.
        checked.errors += fmt.check(checked.rows, lookups)
    if not checked.rows and not checked.errors:
        checked.errors.append(CellError(0, "", "The file has a header but no rows."))
    checked.errors.sort()
    return checked, lookups


class ImportRefusedError(ValueError):
    def __init__(self, errors: list[CellError]):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s); nothing was imported.")


def import_file(
    entity: str,
    data: bytes,
    user_id: int | None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Check the whole file, then write all of it (the caller commits) or raise."""
    checked, lookups = check_file(entity, data, progress)
    if not checked.ok:
        raise ImportRefusedError(checked.errors)
    try:
        return format_for(entity).write(checked.rows, lookups, user_id)
    except Exception:
        db.session.rollback()
        raise


def export_rows(entity: str, args: Mapping | None = None):
    """The plain rows (one value per column) of what a list shows for this query string
    (its filters and order, every page); ``None``: every record. Read from a server-side
    cursor in batches, so memory stays flat in the number of rows. Raises FilterError
    where the list page answers 400."""
    query = format_for(entity).export_query(args)
    return db.session.execute(query.execution_options(yield_per=EXPORT_BATCH))


def export_chunks(entity: str, args: Mapping | None = None):
    return csv_chunks(format_for(entity).columns, export_rows(entity, args))


def export_xlsx(entity: str, args: Mapping | None = None):
    """The same rows as the CSV, as an XLSX workbook in a rewound temporary file."""
    fmt = format_for(entity)
    return xlsx_file(fmt.columns, export_rows(entity, args), fmt.label)


def export_text(entity: str, args: Mapping | None = None) -> str:
    return "".join(export_chunks(entity, args))
