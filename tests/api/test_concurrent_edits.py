"""Two people edit the same record: the second, working from a stale read, is refused
(409 through the API, a clear message in the form) and the first edit is kept."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import Countermeasure, System
from app.models.user import Role
from tests.api import factories as f


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _hidden_version(html: str) -> str:
    match = re.search(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', html)
    assert match, "the edit form carries the version it was read at"
    return match.group(1) or match.group(2)


def test_two_api_clients_edit_the_same_system(app, token_of):
    system = f.system("Billing")
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    first_auth, second_auth = _bearer(token_of(Role.MANAGER)), _bearer(token_of(Role.ADMIN))
    url = f"/api/v1/systems/{system.id}"
    read_first = first.get(url, headers=first_auth).json
    read_second = second.get(url, headers=second_auth).json
    assert read_first["version"] == read_second["version"]

    ok = first.patch(
        url, headers=first_auth, json={"version": read_first["version"], "team": "Payments"}
    )
    assert ok.status_code == 200
    stale = second.patch(
        url, headers=second_auth, json={"version": read_second["version"], "team": "Platform"}
    )
    assert stale.status_code == 409 and stale.is_json
    assert "Someone else changed" in stale.json["error"]

    db.session.expire_all()
    assert db.session.get(System, system.id).team == "Payments"
    assert second.get(url, headers=second_auth).json["team"] == "Payments"


def test_two_api_clients_edit_the_same_countermeasure(app, token_of):
    cm = f.countermeasure("MFA")
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    first_auth, second_auth = _bearer(token_of(Role.SECURITY)), _bearer(token_of(Role.ADMIN))
    url = f"/api/v1/countermeasures/{cm.id}"
    version = first.get(url, headers=first_auth).json["version"]
    assert second.get(url, headers=second_auth).json["version"] == version

    ok = first.patch(url, headers=first_auth, json={"version": version, "title": "MFA everywhere"})
    assert ok.status_code == 200
    stale = second.patch(url, headers=second_auth, json={"version": version, "title": "SSO"})
    assert stale.status_code == 409 and "Someone else changed" in stale.json["error"]
    # A status change from the same stale read is refused too.
    moved = second.post(
        url + "/status",
        headers=second_auth,
        json={"version": version, "status": "in_progress", "changed_on": "2020-10-01"},
    )
    assert moved.status_code == 409

    db.session.expire_all()
    kept = db.session.get(Countermeasure, cm.id)
    assert kept.title == "MFA everywhere" and kept.status.name == "PLANNED"


def test_form_opened_before_an_api_edit_gets_a_clear_message(client_as, token_of):
    system = f.system("Billing")
    db.session.commit()
    browser = client_as(Role.MANAGER)
    form_page = browser.get(f"/systems/{system.id}/edit").get_data(as_text=True)
    version = _hidden_version(form_page)

    api_edit = browser.application.test_client().patch(
        f"/api/v1/systems/{system.id}",
        headers=_bearer(token_of(Role.ADMIN)),
        json={"version": int(version), "name": "Billing v2"},
    )
    assert api_edit.status_code == 200

    response = browser.post(
        f"/systems/{system.id}/edit",
        data={"name": "Invoices", "criticality": "MEDIUM", "version": version},
    )
    assert response.status_code == 409
    assert "Someone else changed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(System, system.id).name == "Billing v2"


def test_countermeasure_form_opened_before_an_api_edit_gets_a_clear_message(client_as, token_of):
    cm = f.countermeasure("MFA")
    db.session.commit()
    browser = client_as(Role.SECURITY)
    version = _hidden_version(browser.get(f"/countermeasures/{cm.id}/edit").get_data(as_text=True))

    api_edit = browser.application.test_client().patch(
        f"/api/v1/countermeasures/{cm.id}",
        headers=_bearer(token_of(Role.SECURITY)),
        json={"version": int(version), "title": "MFA everywhere"},
    )
    assert api_edit.status_code == 200

    response = browser.post(
        f"/countermeasures/{cm.id}/edit",
        data={"title": "SSO", "type": "PREVENTIVE", "version": version},
    )
    assert response.status_code == 409
    assert "Someone else changed this countermeasure" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Countermeasure, cm.id).title == "MFA everywhere"
