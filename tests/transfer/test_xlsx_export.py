"""The XLSX export: the CSV's rows and columns as typed cells, from the pages and the CLI."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import ThreatCategory
from app.models.user import Role
from app.transfer.csv_format import unescape_cell
from app.transfer.entities import FORMATS
from tests.api import factories as f


def _register(users):
    web = ThreatCategory(name="Web")
    db.session.add(web)
    t1 = f.threat(
        '=HYPERLINK("http://evil")',
        category=web,
        owner=users[Role.SECURITY],
        description="@SUM(A1)\nsecond line",
        next_review_on=date(2021, 3, 1),
    )
    t1.systems = [f.system("Billing"), f.system("Wiki", in_production=False)]
    t2 = f.threat("+Plain title", inherent=(5, 5), residual=(2, 3))
    f.countermeasure("Backups", deployed_on=date(2020, 8, 1), threats=[t1, t2], evidence="-1")
    f.countermeasure("MFA", target_quarter_start=date(2020, 10, 1))
    person = f.staff("Ada", email="ada@example.test", left_on=date(2021, 6, 30))
    f.responsibility(person, t1.systems[0])
    db.session.commit()


def _as_csv_text(value) -> str:
    """What the CSV writes for a typed XLSX value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)


def sheet_rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.freeze_panes == "A2"
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("entity", sorted(FORMATS))
def test_xlsx_equals_the_csv_cell_for_cell(client_as, users, entity):
    _register(users)
    client = client_as(Role.VIEWER)
    args = {"systems": {"show": "all"}, "staff": {"status": "all"}}.get(entity, {})
    text = client.get(f"/export/{entity}.csv", query_string=args).text
    response = client.get(f"/export/{entity}.xlsx", query_string=args)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = sheet_rows(response.data)
    expected = [[unescape_cell(c) for c in row] for row in csv.reader(io.StringIO(text))]
    assert len(rows) == len(expected) > 1
    assert [[_as_csv_text(v) for v in row] for row in rows] == expected


def test_xlsx_cells_are_typed_and_formulas_are_text(client_as, users):
    _register(users)
    data = client_as(Role.VIEWER).get("/export/threats.xlsx?sort=title").data
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert sheet["A1"].font.b
    first = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert first["Title"].value == "+Plain title" and first["Title"].data_type == "s"
    second = {h: c for h, c in zip(header, sheet[3], strict=True)}
    # Text that looks like a formula stays text: nothing for a spreadsheet to run.
    assert second["Title"].data_type == "s"
    assert second["Title"].value == '=HYPERLINK("http://evil")'
    assert second["Description"].data_type == "s"
    assert second["Identified on"].is_date
    assert second["Identified on"].value.date() == date(2020, 8, 1)
    likelihood = second["Inherent likelihood"]
    assert likelihood.value == 4 and likelihood.data_type == "n"
    assert second["Systems"].value == "Billing; Wiki"


def test_xlsx_follows_the_list_filters_and_is_linked_from_the_list(client_as, users):
    _register(users)
    client = client_as(Role.VIEWER)
    page = client.get("/countermeasures?status=deployed").text
    href = re.search(r'href="([^"]+)" data-testid="export-xlsx"', page).group(1)
    assert href.startswith("/export/countermeasures.xlsx") and "status=deployed" in href
    rows = sheet_rows(client.get(href.replace("&amp;", "&")).data)
    assert [r[0] for r in rows[1:]] == ["Backups"]
    assert client.get("/export/nothing.xlsx").status_code == 404


def test_cli_exports_xlsx(runner, tmp_path, users):
    _register(users)
    path = tmp_path / "threats.xlsx"
    result = runner.invoke(args=["export", "threats", str(path)])
    assert result.exit_code == 0, result.output
    rows = sheet_rows(path.read_bytes())
    assert rows[0][0] == "Title" and len(rows) == 3
    assert "Exported 2 threats" in result.output


def test_rows_written_as_xml_read_back_as_openpyxl_would_write_them():
    from app.transfer.csv_format import Column
    from app.transfer.xlsx_format import write_xlsx

    columns = [
        Column(header=kind, key=kind, value=lambda: None, parse=None, kind=kind)
        for kind in ("text", "int", "bool", "date", "text")
    ]
    rows = [
        ("  a <b> & c\u0007 ", 3, True, date(1900, 1, 1), "=SUM(A1)"),
        (None, None, False, date(2021, 3, 1), "東京 😀"),
    ]
    out = io.BytesIO()
    write_xlsx(columns, rows, "Sheet", out)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    first, second = list(sheet.iter_rows(min_row=2))
    assert [c.value for c in first] == ["  a <b> & c ", 3, True, datetime(1900, 1, 1), "=SUM(A1)"]
    assert [c.data_type for c in first] == ["s", "n", "b", "d", "s"]
    assert [c.value for c in second] == [None, None, False, datetime(2021, 3, 1), "東京 😀"]
    assert first[3].number_format == "yyyy-mm-dd"
