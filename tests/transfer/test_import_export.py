"""CSV import and export through the service, the pages and the command line."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Countermeasure,
    Responsibility,
    StaffMember,
    System,
    Threat,
    ThreatScoreChange,
    Treatment,
)
from app.models.user import Role
from app.transfer.service import ImportRefusedError, export_text, import_file
from tests.api import factories as f

THREAT_HEADER = (
    "Title,Description,Category,Source,Feed,Owner email,Status,Treatment,Treatment rationale,"
    "Identified on,Next review on,Inherent likelihood,Inherent impact,Residual likelihood,"
    "Residual impact,Systems,Tags,Acceptance approver email,Acceptance expires on"
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def threat_line(i: int, likelihood: str = "3") -> str:
    return f"Threat {i},,Malware,Internal finding,,,Identified,,,2020-08-01,,{likelihood},4,2,2,,,,"


def test_three_bad_rows_among_10000_write_nothing_and_are_named(app):
    lines = [THREAT_HEADER]
    for i in range(10_000):
        lines.append(threat_line(i))
    lines[1234] = threat_line(1233, likelihood="9")
    lines[5000] = threat_line(4999, likelihood="often")
    lines[9999] = threat_line(9998).replace("2020-08-01", "2020-02-30")
    data = ("\n".join(lines) + "\n").encode()
    with pytest.raises(ImportRefusedError) as refused:
        import_file("threats", data, None)
    db.session.rollback()
    assert [(e.line, e.column) for e in refused.value.errors] == [
        (1235, "Inherent likelihood"),
        (5001, "Inherent likelihood"),
        (10000, "Identified on"),
    ]
    assert count(Threat) == 0 and count(ThreatScoreChange) == 0


def test_threat_import_writes_scores_history_systems_tags(users):
    f.system("Billing")
    f.system("Wiki")
    db.session.commit()
    data = (
        THREAT_HEADER + "\n"
        'Ransomware,"Locks, then asks",Malware,Audit,,security@test.example,Assessed,Mitigate,'
        ",2020-07-10,2021-01-10,5,5,3,4,Billing; Wiki,crime; ops,,\n"
    ).encode()
    assert import_file("threats", data, users[Role.SECURITY].id) == 1
    db.session.commit()
    threat = db.session.scalar(select(Threat))
    assert threat.description == "Locks, then asks"
    assert (threat.inherent_score, threat.residual_score) == (25, 12)
    assert [s.name for s in threat.systems] == ["Billing", "Wiki"]
    assert [t.name for t in threat.tags] == ["crime", "ops"]
    assert threat.category.name == "Malware" and threat.owner.email == "security@test.example"
    assert [c.residual_score for c in threat.score_changes] == [12]


def test_wrong_encoding_is_one_clear_error_and_writes_nothing():
    data = "Name,Description,Team,Criticality,In production,Retired on\nZürich,,,,,\n"
    with pytest.raises(ImportRefusedError) as refused:
        import_file("systems", data.encode("cp1252"), None)
    assert len(refused.value.errors) == 1 and "not UTF-8" in str(refused.value.errors[0])
    assert count(System) == 0


def test_missing_column_is_named_and_writes_nothing():
    with pytest.raises(ImportRefusedError) as refused:
        import_file("systems", b"Name,Description,Team,Criticality,Retired on\nBilling,,,,\n", None)
    assert [e.message for e in refused.value.errors] == ["Missing column “In production”."]
    assert count(System) == 0


def test_duplicate_and_existing_names_are_refused():
    f.system("Billing")
    db.session.commit()
    data = (
        b"Name,Description,Team,Criticality,In production,Retired on\n"
        b"Wiki,,,,,\nwiki,,,,,\nBilling,,,,,\n"
    )
    with pytest.raises(ImportRefusedError) as refused:
        import_file("systems", data, None)
    assert [e.line for e in refused.value.errors] == [3, 4]
    assert count(System) == 1


def test_formula_cell_is_escaped_on_export_and_restored_on_import(users):
    f.system("=cmd|' /C calc'!A0", description="@SUM(A1) and more", team="-ops")
    db.session.commit()
    exported = export_text("systems")
    assert "'=cmd|' /C calc'!A0" in exported and "'@SUM(A1)" in exported and "'-ops" in exported
    db.session.execute(System.__table__.delete())
    db.session.commit()
    import_file("systems", exported.encode(), None)
    db.session.commit()
    system = db.session.scalar(select(System))
    assert system.name == "=cmd|' /C calc'!A0" and system.team == "-ops"
    assert export_text("systems") == exported


def _fill_register(users):
    billing, wiki = f.system("Billing", team="Payments"), f.system("Wiki", in_production=False)
    ada, bob = (
        f.staff("Ada", email="ada@x.example", team="Payments"),
        f.staff("Bob", left_on=date(2020, 6, 30)),
    )
    f.responsibility(ada, billing)
    f.responsibility(bob, wiki, since=date(2019, 1, 1), until=date(2020, 6, 30))
    t1 = f.threat(
        "Ransomware",
        systems=[billing, wiki],
        tags=[f.tag("crime")],
        owner=users[Role.SECURITY],
        next_review_on=date(2021, 2, 1),
        treatment=Treatment.ACCEPT,
        treatment_rationale="Insured",
        acceptance_approver=users[Role.MANAGER],
        acceptance_expires_on=date(2021, 6, 30),
    )
    t2 = f.threat(
        "Phishing, again",
        residual=(1, 1),
        description='Say "hi"\nnew line',
        next_review_on=date(2021, 3, 1),
    )
    f.countermeasure("Backups", deployed_on=date(2020, 8, 1), threats=[t1, t2], evidence="=1+1")
    f.countermeasure("MFA")
    db.session.commit()


def _without_ids(text: str) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        assert row.pop("Countermeasure ids") != "" or row["Countermeasures"] == ""
    return rows


ORDER = ["systems", "staff", "responsibilities", "threats", "countermeasures"]


def test_round_trip_into_an_empty_register_gives_the_same_files(users):
    _fill_register(users)
    first = {entity: export_text(entity) for entity in ORDER}
    for model in (Countermeasure, Responsibility, Threat, StaffMember, System):
        for obj in db.session.scalars(select(model)):
            db.session.delete(obj)
    db.session.commit()
    assert count(Threat) == 0
    for entity in ORDER:
        import_file(entity, first[entity].encode(), users[Role.ADMIN].id)
        db.session.commit()
    second = {entity: export_text(entity) for entity in ORDER}
    # Re-imported countermeasures get new ids: the threats' "Countermeasure ids" differ.
    assert _without_ids(second.pop("threats")) == _without_ids(threats := first.pop("threats"))
    assert second == first
    assert threats.count("\r\n") == 3


def test_export_applies_the_list_filters(client_as, users):
    _fill_register(users)
    client = client_as(Role.VIEWER)
    response = client.get("/export/systems.csv?production=no")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert "Wiki" in text and "Billing" not in text
    # The list page ignores an unknown criticality: so does its export.
    assert "Billing" in client.get("/export/systems.csv?criticality=extreme").text
    assert client.get("/export/nothing.csv").status_code == 404


def test_import_page_previews_errors_then_imports_on_confirm(client_as):
    client = client_as(Role.MANAGER)
    bad = (
        b"Name,Description,Team,Criticality,In production,Retired on\n"
        b"Billing,,,Extreme,,\n,,Ops,,,\n"
    )
    response = client.post(
        "/import/systems",
        data={"file": (io.BytesIO(bad), "systems.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert 'data-testid="import-errors"' in page
    assert "Criticality" in page and "<td>2</td>" in page and "<td>3</td>" in page
    assert count(System) == 0

    good = (
        b"Name,Description,Team,Criticality,In production,Retired on\nBilling,,Payments,High,yes,\n"
    )
    response = client.post(
        "/import/systems",
        data={"file": (io.BytesIO(good), "systems.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert 'data-testid="import-ready"' in page and count(System) == 0
    upload = page.split('name="upload" type="hidden" value="')[1].split('"')[0]
    response = client.post("/import/systems/confirm", data={"upload": upload})
    assert response.status_code == 302
    assert db.session.scalar(select(System.team)) == "Payments"


def test_manager_may_not_import_threats(client_as):
    assert client_as(Role.MANAGER).get("/import/threats").status_code == 403
    assert client_as(Role.SECURITY).get("/import/threats").status_code == 200
    assert client_as(Role.VIEWER).get("/import/systems").status_code == 403


def test_cli_import_and_export(runner, tmp_path, users):
    source = tmp_path / "systems.csv"
    source.write_text(
        "Name,Description,Team,Criticality,In production,Retired on\nBilling,,,High,yes,\n"
    )
    result = runner.invoke(args=["import", "systems", str(source)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 systems" in result.output
    target = tmp_path / "out.csv"
    result = runner.invoke(args=["export", "systems", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text().splitlines()[1] == "Billing,,,High,yes,"


def test_cli_import_names_bad_lines_and_writes_nothing(runner, tmp_path):
    source = tmp_path / "systems.csv"
    source.write_text("Name,Description,Team,Criticality,In production,Retired on\nA,,,,maybe,\n")
    result = runner.invoke(args=["import", "systems", str(source)])
    assert result.exit_code != 0
    assert "line 2, column “In production”" in result.output
    assert count(System) == 0


# ---- the services' rules and the audit log ----------------------------------------------


def _audit_rows(entity_type: str):
    from app.models.audit import AuditEntry

    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == entity_type, AuditEntry.action == "import")
            .order_by(AuditEntry.id)
        )
    )


def test_every_imported_record_has_an_audit_row_naming_the_importer(client_as, users):
    data = (
        THREAT_HEADER + "\n"
        "Ransomware,Locks files,Malware,Internal finding,,,Identified,,,2020-07-10,,"
        "5,5,3,4,,ops,,\n"
        "Phishing,,Malware,Internal finding,,,Identified,,,2020-07-11,,4,4,2,2,,,,\n"
    ).encode()
    assert import_file("threats", data, users[Role.SECURITY].id) == 2
    db.session.commit()
    rows = _audit_rows("Threat")
    threats = db.session.scalars(select(Threat).order_by(Threat.id)).all()
    assert [r.entity_id for r in rows] == [str(t.id) for t in threats]
    assert rows[0].new_values["title"] == "Ransomware" and rows[0].new_values["tags"] == ["ops"]
    assert rows[0].new_values["residual_likelihood"] == 3 and rows[0].actor == "system"

    systems = "Name,Description,Team,Criticality,In production,Retired on\nBilling,,,High,yes,\n"
    browser = client_as(Role.MANAGER)
    page = browser.post(
        "/import/systems",
        data={"file": (io.BytesIO(systems.encode()), "s.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    upload = page.split('name="upload" type="hidden" value="')[1].split('"')[0]
    assert browser.post("/import/systems/confirm", data={"upload": upload}).status_code == 302
    (entry,) = _audit_rows("System")
    assert entry.actor == "manager@test.example" and entry.new_values["name"] == "Billing"


def test_cli_import_is_audited_as_the_command(runner, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("Name,Email,Team,Active,Left on\nAda,,SRE,yes,\nBob,,SRE,yes,\n")
    result = runner.invoke(args=["import", "staff", str(path)])
    assert result.exit_code == 0, result.output
    assert [(e.summary, e.actor) for e in _audit_rows("StaffMember")] == [
        ("Ada", "import staff.csv"),
        ("Bob", "import staff.csv"),
    ]


def test_threat_rows_go_through_the_register_rules(users):
    data = (
        THREAT_HEADER + "\n"
        # residual above inherent: the register refuses it
        "Worse,,,Internal finding,,,Identified,,,2020-07-10,,2,2,5,5,,,,\n"
        # identified in the future
        "Later,,,Internal finding,,,Identified,,,2999-01-01,,2,2,1,1,,,,\n"
        # accepted without approver nor expiry
        "Taken,,,Internal finding,,,Identified,Accept,Insured,2020-07-10,,2,2,1,1,,,,\n"
        # a bad cell is named once, not again by the rules
        "Bad,,,Internal finding,,,Identified,,,2020-07-10,,9,2,1,1,,,,\n"
        "Fine,,,Internal finding,,,Identified,,,2020-07-10,,2,2,1,1,,,,\n"
    ).encode()
    with pytest.raises(ImportRefusedError) as refused:
        import_file("threats", data, None)
    db.session.rollback()
    assert [(e.line, e.column) for e in refused.value.errors] == [
        (2, "Residual impact"),
        (3, "Identified on"),
        (4, "Acceptance approver email"),
        (4, "Acceptance expires on"),
        (5, "Inherent likelihood"),
    ]
    assert count(Threat) == 0 and _audit_rows("Threat") == []


def test_imported_threats_are_found_by_the_register_search(users):
    from app.threats.search import apply_search

    data = (
        THREAT_HEADER + "\n"
        "Ransomware on backups,Encrypts the NAS,,Internal finding,,,Identified,,,2020-07-10,,"
        "5,5,3,4,,,,\n"
    ).encode()
    import_file("threats", data, None)
    db.session.commit()
    found = db.session.scalars(apply_search(select(Threat), "encrypt nas")).all()
    assert [t.title for t in found] == ["Ransomware on backups"]
    assert found[0].next_review_on is not None  # the register's default review date
