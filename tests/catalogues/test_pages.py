"""The catalogue pages: who may do what, importing by upload, mapping by form."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models.catalogues import Library, ThreatMapping
from app.models.user import Role
from app.security import required_roles_of
from tests.catalogues.conftest import fixture_bytes

EVERYONE = frozenset(Role)
ADMIN = frozenset({Role.ADMIN})
SECURITY = frozenset({Role.SECURITY, Role.ADMIN})


def test_admins_import_security_maps_everyone_reads(app):
    expected = {
        ("catalogues.index", "GET"): EVERYONE,
        ("catalogues.library", "GET"): EVERYONE,
        ("catalogues.matrix", "GET"): EVERYONE,
        ("catalogues.framework", "GET"): EVERYONE,
        ("catalogues.attack", "GET"): EVERYONE,
        ("catalogues.import_file", "POST"): ADMIN,
        ("catalogues.threat_mappings", "GET"): SECURITY,
        ("catalogues.threat_mappings", "POST"): SECURITY,
        ("catalogues.end_threat_mapping", "POST"): SECURITY,
        ("catalogues.countermeasure_mappings", "POST"): SECURITY,
        ("catalogues.end_countermeasure_mapping", "POST"): SECURITY,
        ("api_catalogues.Libraries", "GET"): EVERYONE,
        ("api_catalogues.ThreatTechniques", "GET"): EVERYONE,
        ("api_catalogues.ThreatTechniques", "PUT"): SECURITY,
        ("api_catalogues.CountermeasureEntries", "PUT"): SECURITY,
        ("api_catalogues.AttackCoverage", "GET"): EVERYONE,
        ("api_catalogues.FrameworkCoverage", "GET"): EVERYONE,
    }
    with app.test_request_context():
        found = {key: required_roles_of(*key) for key in expected}
    assert found == expected


def _upload(client, filename: str, data: bytes, **fields):
    return client.post(
        "/catalogues/import",
        data={"file": (io.BytesIO(data), filename), **fields},
        content_type="multipart/form-data",
    )


def test_an_admin_uploads_a_library_and_a_bad_file_is_shown_beside_the_field(client_as):
    admin = client_as(Role.ADMIN)
    done = _upload(admin, "enterprise-attack-v1.json", fixture_bytes("enterprise-attack-v1.json"))
    assert done.status_code == 302
    library_id = db.session.scalar(select(Library.id))
    page = admin.get(done.headers["Location"])
    assert "Enterprise ATT&amp;CK" in page.get_data(as_text=True)
    assert f"/catalogues/{library_id}" in done.headers["Location"]

    refused = _upload(admin, "controls.csv", b"ref,title\nA,b\n", name="Controls")
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'data-field-error="file"' in text and "Line 1, column 2: unknown column" in text
    assert db.session.scalar(select(func.count()).select_from(Library)) == 1
    assert client_as(Role.SECURITY).get("/catalogues").status_code == 200
    assert _upload(client_as(Role.SECURITY), "x.json", b"{}").status_code == 403  # not an admin


def test_security_maps_a_threat_by_the_form_and_ends_the_mapping(client_as, attack, make_threat):
    threat = make_threat("Phishing", (3, 3))
    db.session.commit()
    client = client_as(Role.SECURITY)
    url = f"/threats/{threat.id}/mappings"
    form = client.get(url)
    assert form.status_code == 200 and "T1566 — Phishing" in form.get_data(as_text=True)
    added = client.post(
        url, data={"library": attack.id, "entry": "T1566 — Phishing", "on": "2020-09-01"}
    )
    assert added.status_code == 302
    refused = client.post(url, data={"library": attack.id, "entry": "TA0001", "on": "2020-09-01"})
    assert refused.status_code == 422
    assert "TA0001 is a tactic; choose a technique." in refused.get_data(as_text=True)
    mapping = db.session.scalars(select(ThreatMapping)).one()
    too_early = client.post(f"{url}/{mapping.id}/end", data={"on": "2020-08-01"})
    assert too_early.status_code == 302
    db.session.refresh(mapping)
    assert mapping.unmapped_on is None
    client.post(f"{url}/{mapping.id}/end", data={"on": "2020-12-01"})
    db.session.refresh(mapping)
    assert mapping.unmapped_on == date(2020, 12, 1)
    detail = client_as(Role.VIEWER).get(f"/threats/{threat.id}").get_data(as_text=True)
    assert 'data-testid="catalogue-mappings"' in detail and "T1566" in detail
    assert "Edit mappings" not in detail  # a viewer reads them only


def test_security_maps_a_countermeasure_to_a_control(client_as, annex_a, make_countermeasure):
    cm = make_countermeasure("Backups", date(2020, 8, 1))
    db.session.commit()
    client = client_as(Role.SECURITY)
    done = client.post(
        f"/countermeasures/{cm.id}/mappings",
        data={"library": annex_a.id, "entry": "A.8.13", "on": "2020-08-01"},
    )
    assert done.status_code == 302
    detail = client.get(f"/countermeasures/{cm.id}").get_data(as_text=True)
    assert "implements" in detail and "A.8.13" in detail and "Information backup" in detail


def test_the_entry_picker_offers_the_entries_of_the_chosen_catalogue_only(
    client_as, attack, annex_a, make_countermeasure
):
    cm = make_countermeasure("Backups", date(2020, 8, 1))
    db.session.commit()
    client = client_as(Role.SECURITY)
    url = f"/countermeasures/{cm.id}/mappings"

    def offered(page: str) -> set[str]:
        datalist = page.split('<datalist id="catalogue-entries">')[1].split("</datalist>")[0]
        return {part.split(" — ")[0] for part in datalist.split('value="')[1:]}

    first = client.get(url).get_data(as_text=True)
    assert 'data-testid="catalogue-choice"' in first  # a plain GET form: no script needed
    chosen = client.get(f"{url}?library={annex_a.id}").get_data(as_text=True)
    assert "A.8.13" in offered(chosen) and "T1566" not in offered(chosen)
    assert f'name="library" value="{annex_a.id}"' in chosen
    other = client.get(f"{url}?library={attack.id}").get_data(as_text=True)
    assert "T1566" in offered(other) and "A.8.13" not in offered(other)
    assert offered(first) in (offered(chosen), offered(other))
    # A reference of another catalogue is refused beside the field; the list stays narrowed.
    refused = client.post(url, data={"library": annex_a.id, "entry": "T1566", "on": "2020-08-01"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "has no entry T1566" in page and "T1566" not in offered(page)
    assert client.get(f"{url}?library=999").status_code == 200  # an unknown one: the first
