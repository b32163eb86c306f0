"""Importing libraries: ATT&CK from STIX 2.1, frameworks from CSV and YAML, new versions."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from app.catalogues.libraries import current_version_id, import_library
from app.catalogues.mappings import map_threat
from app.catalogues.queries import threat_mappings
from app.extensions import db
from app.models.audit import AuditEntry
from app.models.catalogues import (
    CatalogueEntry,
    EntryKind,
    Library,
    LibraryKind,
    LibraryVersion,
    ThreatMapping,
)
from app.validation import InputError
from tests.catalogues.conftest import fixture_bytes


def _entries(library_id: int) -> dict[str, CatalogueEntry]:
    version = current_version_id(library_id)
    rows = db.session.scalars(select(CatalogueEntry).where(CatalogueEntry.version_id == version))
    return {e.ref: e for e in rows}


def test_the_attack_fixture_imports_its_tactics_and_techniques(import_fixture):
    result = import_fixture("enterprise-attack-v1.json")
    library = result.library
    assert library.name == "Enterprise ATT&CK" and library.kind == LibraryKind.ATTACK
    assert result.version.version == "8.0" and result.new_library
    entries = _entries(library.id)
    tactics = sorted(
        (e for e in entries.values() if e.kind == EntryKind.TACTIC), key=lambda e: e.position
    )
    # In the matrix's order, as the bundle's x-mitre-matrix lists them.
    assert [t.ref for t in tactics] == ["TA0001", "TA0002", "TA0003", "TA0006", "TA0011", "TA0040"]
    assert tactics[0].name == "Initial Access"
    techniques = [e for e in entries.values() if e.kind == EntryKind.TECHNIQUE]
    assert len(techniques) == 18
    phishing = entries["T1566"]
    assert phishing.name == "Phishing" and phishing.tactics == ["TA0001"]
    assert phishing.url == "https://attack.mitre.org/techniques/T1566"
    sub = entries["T1566.001"]
    assert sub.kind == EntryKind.SUB_TECHNIQUE and sub.parent_ref == "T1566"
    assert sub.name == "Spearphishing Attachment"
    assert entries["T1133"].tactics == ["TA0001", "TA0003"]
    assert not any(e.revoked or e.deprecated for e in entries.values())
    # The mitigation (course-of-action) and the identity are not entries.
    assert "M1017" not in entries


def test_a_second_version_keeps_the_mapping_and_marks_the_revoked_technique(
    import_fixture, make_threat
):
    library = import_fixture("enterprise-attack-v1.json").library
    threat = make_threat("Malicious attachments", (4, 4))
    map_threat(threat.id, library.id, "T1193", date(2020, 8, 1), None)
    db.session.commit()

    result = import_fixture("enterprise-attack-v2.json")
    assert result.library.id == library.id and not result.new_library
    changes = result.changes
    assert changes.revoked == ("T1193",)
    assert changes.deprecated == ("T1064",)
    assert changes.added == ("T1656",)
    assert changes.renamed == (("T1003", "Credential Dumping", "OS Credential Dumping"),)
    assert changes.removed == ()
    assert db.session.scalar(select(func.count()).select_from(LibraryVersion)) == 2

    mapping = db.session.scalars(select(ThreatMapping)).one()
    assert (mapping.ref, mapping.unmapped_on) == ("T1193", None)
    (line,) = threat_mappings(threat.id)
    assert line.ref == "T1193" and line.revoked and not line.removed
    # A revoked technique is no longer offered for new mappings.
    with pytest.raises(InputError, match="revoked"):
        map_threat(threat.id, library.id, "T1193", date(2021, 1, 2), None)


def test_the_library_page_shows_what_a_version_changed(client_as, import_fixture):
    from app.models.user import Role

    import_fixture("enterprise-attack-v1.json")
    library = import_fixture("enterprise-attack-v2.json").library
    page = client_as(Role.VIEWER).get(f"/catalogues/{library.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Revoked</strong>: T1193" in text
    assert "T1003 “Credential Dumping” → “OS Credential Dumping”" in text


def test_frameworks_import_from_csv_and_yaml(import_fixture):
    annex = import_fixture(
        "iso27001-2022-annex-a.csv", name="ISO/IEC 27001:2022 Annex A", version="2022"
    )
    entries = _entries(annex.library.id)
    assert annex.library.kind == LibraryKind.FRAMEWORK and len(entries) == 25
    assert entries["A.5.15"].name == "Access control" and entries["A.5.15"].parent_ref == "A.5"
    cis = import_fixture("cis-controls-v8.yaml")
    assert cis.library.name == "CIS Controls v8" and cis.version.version == "8.0"
    assert _entries(cis.library.id)["6.3"].parent_ref == "6"


def test_a_re_import_that_changes_nothing_is_refused(import_fixture):
    import_fixture("enterprise-attack-v1.json")
    with pytest.raises(InputError, match="already imported"):
        import_library(fixture_bytes("enterprise-attack-v1.json"), "x.json", on=date(2021, 1, 1))


def _bad(data: bytes, filename: str, **kwargs) -> str:
    with pytest.raises(InputError) as caught:
        import_library(data, filename, on=date(2021, 1, 1), **kwargs)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Library)) == 0
    assert db.session.scalar(select(func.count()).select_from(CatalogueEntry)) == 0
    return " ".join(caught.value.errors.values())


def test_a_file_that_is_not_stix_is_refused_and_nothing_is_written():
    assert "not a STIX bundle" in _bad(b'{"type": "report", "objects": []}', "a.json")
    assert "line 1, column 2" in _bad(b"{oops", "a.json").lower()
    no_attack = {"type": "bundle", "id": "bundle--" + "0" * 8 + "-0000-4000-8000-" + "0" * 12}
    no_attack["objects"] = []
    assert "no ATT&CK tactic or technique" in _bad(json.dumps(no_attack).encode(), "a.json")
    broken = json.loads(fixture_bytes("enterprise-attack-v1.json"))
    pattern = next(o for o in broken["objects"] if o["type"] == "attack-pattern")
    pattern["created"] = "yesterday"
    assert "not valid STIX 2.1" in _bad(json.dumps(broken).encode(), "a.json")


def test_csv_errors_name_the_line_and_column_and_write_nothing():
    wrong = b"ref,name,owner\nA.1,Policies,someone\n"
    assert _bad(wrong, "f.csv", name="F") == (
        "Line 1, column 3: unknown column “owner”; the columns are ref, name, description, "
        "parent, url, deprecated."
    )
    assert "missing column(s) name" in _bad(b"ref,description\nA.1,x\n", "f.csv", name="F")
    assert _bad(b"ref,name\nA.1,Policies\n,No ref\n", "f.csv", name="F") == (
        "Line 3, column 1: the ref is empty."
    )
    assert _bad(b"name,ref,deprecated\nPolicies,A.1,perhaps\n", "f.csv", name="F") == (
        "Line 2, column 3: write yes or no, not “perhaps”."
    )
    assert "Name the library" in _bad(b"ref,name\nA.1,Policies\n", "f.csv")


def test_a_cycle_in_parents_is_refused():
    cycle = b"ref,name,parent\nA,Group,C\nB,Sub,A\nC,Leaf,B\n"
    message = _bad(cycle, "f.csv", name="F")
    assert message.startswith("The parents go round in a cycle") and "A → C → B → A" in message
    assert "its parent Z is not in the file" in _bad(b"ref,name,parent\nA,x,Z\n", "f.csv", name="F")
    yaml_cycle = (
        b"library: F\ncontrols:\n"
        b"  - {ref: A, name: a, parent: B}\n"
        b"  - {ref: B, name: b, parent: A}\n"
    )
    assert "cycle" in _bad(yaml_cycle, "f.yaml")


def test_the_cli_imports_and_reports_changes(runner, tmp_path):
    from tests.catalogues.conftest import FIXTURES

    first = runner.invoke(args=["catalogue", "import", str(FIXTURES / "enterprise-attack-v1.json")])
    assert first.exit_code == 0, first.output
    assert "Imported Enterprise ATT&CK version 8.0: 26 entries." in first.output
    second = runner.invoke(
        args=["catalogue", "import", str(FIXTURES / "enterprise-attack-v2.json")]
    )
    assert second.exit_code == 0, second.output
    assert "revoked: T1193" in second.output and "added: T1656" in second.output
    bad = tmp_path / "bad.csv"
    bad.write_text("ref,title\nA,b\n")
    refused = runner.invoke(args=["catalogue", "import", str(bad), "--name", "X"])
    assert refused.exit_code != 0
    assert "bad.csv: Line 1, column 2: unknown column “title”" in refused.output
    assert db.session.scalar(select(func.count()).select_from(Library)) == 1
    audit = db.session.scalars(
        select(AuditEntry.actor).where(AuditEntry.entity_type == "LibraryVersion")
    ).all()
    assert audit == ["catalogue-import", "catalogue-import"]


def test_a_revoked_technique_stripped_of_its_tactics_keeps_its_place(import_fixture):
    library = import_fixture("enterprise-attack-v1.json").library
    bundle = json.loads(fixture_bytes("enterprise-attack-v2.json"))
    for obj in bundle["objects"]:
        if (
            obj.get("type") == "attack-pattern"
            and obj["external_references"][0]["external_id"] == "T1193"
        ):
            del obj["kill_chain_phases"]  # as MITRE publishes revoked objects
    import_library(json.dumps(bundle).encode(), "v2.json", on=date(2021, 1, 5))
    entry = _entries(library.id)["T1193"]
    assert entry.revoked and entry.tactics == ["TA0001"]
