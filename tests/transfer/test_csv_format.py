"""The CSV layer without a database: escaping, encoding and header checks."""

from __future__ import annotations

import pytest

from app.transfer.csv_format import (
    Column,
    FileRefusedError,
    decode,
    escape_cell,
    parse_rows,
    unescape_cell,
)


@pytest.mark.parametrize(
    "value",
    ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "'=x", "''=x", "'plain", "", "a"],
)
def test_escaping_round_trips_exactly(value):
    assert unescape_cell(escape_cell(value)) == value


def test_formula_cells_are_escaped():
    assert escape_cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert escape_cell("'plain") == "'plain"
    assert escape_cell("Phishing") == "Phishing"


def test_not_utf8_is_one_clear_error():
    with pytest.raises(FileRefusedError) as refused:
        decode("Name\nZürich\n".encode("latin-1"))
    assert len(refused.value.errors) == 1
    assert "not UTF-8" in refused.value.errors[0].message


def test_byte_order_mark_is_accepted():
    assert decode("\ufeffName\n".encode()) == "Name\n"


COLUMNS = [
    Column("Name", "name", str, lambda raw, _: raw.strip(), required=True),
    Column("Team", "team", str, lambda raw, _: raw.strip()),
]


def test_missing_and_unknown_columns_are_named():
    with pytest.raises(FileRefusedError) as refused:
        parse_rows("Name,Colour\nx,y\n", COLUMNS, None)
    messages = [e.message for e in refused.value.errors]
    assert "Missing column “Team”." in messages
    assert any("Unknown column “Colour”" in m for m in messages)


def test_every_row_error_has_its_line_and_column():
    rows, errors = parse_rows("Name,Team\n,a\nok,b\n,c\nonly-one\n", COLUMNS, None)
    assert [(e.line, e.column) for e in errors] == [(2, "Name"), (4, "Name"), (5, "")]
    assert [r.values.get("name") for r in rows] == [None, "ok", None]
