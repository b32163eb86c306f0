"""Mappings through the CSV files: exported as references, imported as dated mappings."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import delete, func, select

from app.catalogues.mappings import in_force, map_countermeasure
from app.extensions import db
from app.models import Countermeasure, Threat
from app.models.audit import AuditEntry
from app.models.catalogues import CountermeasureMapping, Library, ThreatMapping
from app.models.user import Role
from app.transfer.service import ImportRefusedError, export_text, import_file

TODAY = date(2021, 1, 15)


def _in_force_today() -> set[tuple[str, str, str, str]]:
    threats = db.session.execute(
        select(Threat.title, Library.name, ThreatMapping.ref)
        .join(ThreatMapping, ThreatMapping.threat_id == Threat.id)
        .join(Library, Library.id == ThreatMapping.library_id)
        .where(*in_force(ThreatMapping, TODAY))
    )
    countermeasures = db.session.execute(
        select(Countermeasure.title, Library.name, CountermeasureMapping.ref)
        .join(CountermeasureMapping, CountermeasureMapping.countermeasure_id == Countermeasure.id)
        .join(Library, Library.id == CountermeasureMapping.library_id)
        .where(*in_force(CountermeasureMapping, TODAY))
    )
    return {("threat", *row) for row in threats} | {
        ("countermeasure", *row) for row in countermeasures
    }


def _empty_register() -> None:
    for model in (ThreatMapping, CountermeasureMapping):
        db.session.execute(delete(model))
    for model in (Countermeasure, Threat):
        for obj in db.session.scalars(select(model)):
            db.session.delete(obj)
    db.session.commit()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def exported(register, annex_a):
    sandbox = db.session.scalar(
        select(Countermeasure).where(Countermeasure.title == "Mail attachment sandbox")
    )
    map_countermeasure(sandbox.id, annex_a.id, "A.8.7", date(2020, 10, 1), None)
    db.session.commit()
    before = _in_force_today()
    files = {entity: export_text(entity) for entity in ("threats", "countermeasures")}
    _empty_register()
    return before, files


def test_export_then_import_into_an_empty_register_gives_the_same_mappings(exported, users):
    before, files = exported
    assert ("threat", "Link phishing and ransomware", "Enterprise ATT&CK", "T1486") in before
    assert (
        "countermeasure",
        "Mail attachment sandbox",
        "ISO/IEC 27001:2022 Annex A",
        "A.8.7",
    ) in before
    assert _count(ThreatMapping) == _count(CountermeasureMapping) == 0
    for entity in ("threats", "countermeasures"):
        import_file(entity, files[entity].encode(), users[Role.SECURITY].id)
        db.session.commit()
    assert _in_force_today() == before
    # Dated from the day each record starts: a threat's identification, a countermeasure's plan.
    assert {m.mapped_on for m in db.session.scalars(select(ThreatMapping))} == {date(2020, 7, 1)}
    assert {m.mapped_on for m in db.session.scalars(select(CountermeasureMapping))} == {
        date(2020, 7, 1)
    }
    audited = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type.in_(["ThreatMapping", "CountermeasureMapping"]),
            AuditEntry.action == "import",
        )
    ).all()
    assert len(audited) == len(before)
    assert {a.new_values["user_id"] for a in audited} == {users[Role.SECURITY].id}
    assert {a.summary for a in audited} >= {"T1486", "A.8.7"}
    # Exporting again writes the same reference cells.
    assert export_text("threats").count("T1566.001") == files["threats"].count("T1566.001") == 1


def _edited(text: str, title: str, column: str, value: str) -> bytes:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert any(r["Title"] == title for r in rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        if row["Title"] == title:
            row[column] = value
        writer.writerow(row)
    return out.getvalue().encode()


BAD_CELLS = [
    ("threats", "Web app exploit", "ATT&CK techniques", "T1190; T9999",
     "no catalogue has an entry T9999"),
    ("threats", "Web app exploit", "ATT&CK techniques", "TA0001",
     "TA0001 is a tactic; name a technique"),
    ("threats", "Web app exploit", "ATT&CK techniques", "A.5.1",
     "A.5.1 is a control of ISO/IEC 27001:2022 Annex A"),
    ("countermeasures", "Offline backups", "Controls implemented", "T1486",
     "T1486 is an ATT&CK entry, not a framework control"),
    ("countermeasures", "Offline backups", "Techniques mitigated", "Enterprise ATT&CK: T1193",
     "T1193 is revoked in Enterprise ATT&CK; name its successor"),
]  # fmt: skip


@pytest.mark.parametrize(("entity", "title", "column", "cell", "message"), BAD_CELLS)
def test_a_bad_reference_is_named_by_line_and_column_and_nothing_is_written(
    exported, import_fixture, users, entity, title, column, cell, message
):
    import_fixture("enterprise-attack-v2.json")  # T1193 revoked
    _before, files = exported
    if entity == "countermeasures":
        import_file("threats", files["threats"].encode(), None)
        db.session.commit()
    threats, mappings = _count(Threat), _count(ThreatMapping)
    data = _edited(files[entity], title, column, cell)
    with pytest.raises(ImportRefusedError) as refused:
        import_file(entity, data, None)
    db.session.rollback()
    [error] = refused.value.errors
    line = 1 + next(
        n
        for n, row in enumerate(csv.DictReader(io.StringIO(files[entity])), 1)
        if row["Title"] == title
    )
    assert (error.line, error.column) == (line, column)
    assert message.casefold() in error.message.casefold()
    assert (_count(Threat), _count(ThreatMapping)) == (threats, mappings)
    assert _count(Countermeasure) == _count(CountermeasureMapping) == 0


def test_a_file_without_the_catalogue_columns_still_imports(exported):
    _before, files = exported
    rows = list(csv.DictReader(io.StringIO(files["threats"])))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[k for k in rows[0] if k != "ATT&CK techniques"])
    writer.writeheader()
    for row in rows:
        row.pop("ATT&CK techniques")
        writer.writerow(row)
    assert import_file("threats", out.getvalue().encode(), None) == len(rows)
    assert _count(ThreatMapping) == 0
