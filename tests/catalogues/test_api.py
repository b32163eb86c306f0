"""The catalogue API: coverage figures, and a record's mappings read and written."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.auth.tokens import create_token
from app.extensions import db
from app.models.audit import AuditEntry
from app.models.catalogues import ThreatMapping
from app.models.user import Role


def _headers(users, role: Role) -> dict:
    _, secret = create_token(users[role], "test")
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_coverage_figures_match_the_pages(client, users, register, framework):
    viewer = _headers(users, Role.VIEWER)
    attack = client.get(
        f"/api/v1/catalogues/{register}/attack-coverage?date=2020-12-31", headers=viewer
    )
    assert attack.status_code == 200, attack.json
    assert (attack.json["threatened"], attack.json["exposed"]) == (2, 1)
    cells = {c["ref"]: c for col in attack.json["columns"] for c in col["cells"]}
    assert cells["T1486"]["worst_residual"] == 20 and cells["T1486"]["state"] == "exposed"
    controls = client.get(
        f"/api/v1/catalogues/{framework}/framework-coverage?date=2020-12-31", headers=viewer
    )
    assert controls.json["percent"] == 5 and controls.json["implemented_refs"] == ["A.8.7"]
    wrong_kind = client.get(f"/api/v1/catalogues/{register}/framework-coverage", headers=viewer)
    assert wrong_kind.status_code == 404
    listed = client.get("/api/v1/threats?technique=T1566&as_of=2020-12-31", headers=viewer)
    assert sorted(t["title"] for t in listed.json["items"]) == [
        "Attachment phishing",
        "Link phishing and ransomware",
    ]


def test_mappings_are_written_through_the_service_dated_and_audited(
    client, users, attack, make_threat
):
    threat = make_threat("Phishing", (3, 3))
    db.session.commit()
    security = _headers(users, Role.SECURITY)
    url = f"/api/v1/threats/{threat.id}/techniques"
    first = client.put(url, json={"refs": ["T1566", "T1110"], "on": "2020-09-01"}, headers=security)
    assert first.status_code == 200, first.json
    assert sorted(m["ref"] for m in first.json) == ["T1110", "T1566"]
    second = client.put(url, json={"refs": ["T1566"], "on": "2020-12-01"}, headers=security)
    ended = {m["ref"]: m["unmapped_on"] for m in second.json}
    assert ended == {"T1566": None, "T1110": "2020-12-01"}
    rows = db.session.scalars(select(ThreatMapping).order_by(ThreatMapping.ref)).all()
    assert [(m.ref, m.mapped_on, m.unmapped_on) for m in rows] == [
        ("T1110", date(2020, 9, 1), date(2020, 12, 1)),
        ("T1566", date(2020, 9, 1), None),
    ]
    audit = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "ThreatMapping")
    ).all()
    assert sorted(audit) == ["create", "create", "update"]
    refused = client.put(url, json={"refs": ["TA0001"]}, headers=security)
    assert refused.status_code == 422 and "technique" in str(refused.json)
    unknown = client.put(url, json={"refs": ["T9999"]}, headers=security)
    assert unknown.status_code == 422 and "T9999" in str(unknown.json)
    viewer = _headers(users, Role.VIEWER)
    assert client.put(url, json={"refs": []}, headers=viewer).status_code == 403
    assert len(client.get(url, headers=viewer).json) == 2


def test_the_csv_exports_name_the_mappings_in_force_today(register, framework):
    import csv
    import io

    from app.transfer.service import export_text

    threats = {r["Title"]: r for r in csv.DictReader(io.StringIO(export_text("threats")))}
    assert threats["Attachment phishing"]["ATT&CK techniques"] == "T1566.001"
    assert threats["Link phishing and ransomware"]["ATT&CK techniques"] == "T1486; T1566"
    assert threats["Web app exploit"]["ATT&CK techniques"] == ""  # unmapped in December
    # Both fixtures plan a sandbox and a lockout: one maps techniques, the other controls.
    cms = sorted(
        (r["Title"], r["Techniques mitigated"], r["Controls implemented"])
        for r in csv.DictReader(io.StringIO(export_text("countermeasures")))
    )
    assert ("Mail attachment sandbox", "T1566", "") in cms
    assert ("Mail attachment sandbox", "", "A.8.7") in cms
    assert ("Account lockout", "", "A.5.15; A.5.17") in cms


def test_the_threat_and_countermeasure_resources_name_their_mappings_today(
    client, users, register, framework
):
    from app.models.countermeasures import Countermeasure
    from app.models.threats import Threat

    viewer = _headers(users, Role.VIEWER)
    threat = db.session.scalar(select(Threat).where(Threat.title == "Ransomware via supplier"))
    assert client.get(f"/api/v1/threats/{threat.id}", headers=viewer).json["techniques"] == [
        "T1486"
    ]
    lockouts = db.session.scalars(
        select(Countermeasure.id).where(Countermeasure.title == "Account lockout")
    ).all()
    found = [client.get(f"/api/v1/countermeasures/{i}", headers=viewer).json for i in lockouts]
    assert sorted((cm["techniques"], cm["controls"]) for cm in found) == [
        ([], ["A.5.15", "A.5.17"]),
        (["T1110"], []),
    ]
