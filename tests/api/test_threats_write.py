"""The threat register through the API: create, edit (409 on a stale version, also against
the form), archive and restore, all by the threat register's own service."""

# The threat register's fixtures are used here by name.
# ruff: noqa: F811

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Threat
from app.models.audit import AuditEntry
from app.models.user import Role
from tests.threats.conftest import pinned_today, register  # noqa: F401 - fixtures


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _json_values(register, **overrides) -> dict:
    values = register.values(**overrides)
    values["identified_on"] = str(values["identified_on"])
    return values


def test_security_logs_and_rescores_a_threat(client, token_of, register):
    auth = _bearer(token_of(Role.SECURITY))
    created = client.post("/api/v1/threats", headers=auth, json=_json_values(register))
    assert created.status_code == 201, created.json
    body = created.json
    assert body["residual"] == {"likelihood": 3, "impact": 3, "score": 9}
    assert sorted(body["tags"]) == ["availability", "edge"]
    changed = client.patch(
        f"/api/v1/threats/{body['id']}",
        headers=auth,
        json={"version": body["version"], "residual_likelihood": 2, "score_note": "WAF"},
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["residual"]["score"] == 6 and changed.json["title"] == body["title"]
    assert [h["residual_score"] for h in changed.json["score_history"]] == [9, 6]
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "Threat")
    ).all()
    assert actions == ["create", "update"]


def test_threat_rules_come_back_per_field_and_nothing_is_written(client, token_of, register):
    auth = _bearer(token_of(Role.SECURITY))
    response = client.post(
        "/api/v1/threats",
        headers=auth,
        json=_json_values(
            register, title="", residual_likelihood=5, residual_impact=5, identified_on="2030-01-01"
        ),
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"title", "identified_on", "residual_impact"}
    assert db.session.scalar(select(func.count()).select_from(Threat)) == 0


def test_archive_and_restore(client, token_of, register):
    threat = register.threat()
    auth = _bearer(token_of(Role.SECURITY))
    archived = client.post(f"/api/v1/threats/{threat.id}/archive", headers=auth)
    assert archived.status_code == 200 and archived.json["archived"] is True
    again = client.post(f"/api/v1/threats/{threat.id}/archive", headers=auth)
    assert again.status_code == 422 and "already archived" in again.json["errors"]["_"]
    edit = client.patch(
        f"/api/v1/threats/{threat.id}", headers=auth, json={"version": 99, "title": "X"}
    )
    assert edit.status_code in (409, 422)
    restored = client.post(f"/api/v1/threats/{threat.id}/restore", headers=auth)
    assert restored.status_code == 200 and restored.json["archived"] is False
    viewer = _bearer(token_of(Role.VIEWER))
    assert client.post(f"/api/v1/threats/{threat.id}/archive", headers=viewer).status_code == 403
    assert client.post("/api/v1/threats", headers=viewer, json={"title": "X"}).status_code == 403


def test_two_clients_edit_the_same_threat(app, token_of, register):
    threat = register.threat()
    first, second = app.test_client(), app.test_client()
    first_auth, second_auth = _bearer(token_of(Role.SECURITY)), _bearer(token_of(Role.ADMIN))
    url = f"/api/v1/threats/{threat.id}"
    read_first = first.get(url, headers=first_auth).json
    read_second = second.get(url, headers=second_auth).json
    assert read_first["version"] == read_second["version"]

    ok = first.patch(
        url, headers=first_auth, json={"version": read_first["version"], "title": "First edit"}
    )
    assert ok.status_code == 200
    stale = second.patch(
        url, headers=second_auth, json={"version": read_second["version"], "title": "Second"}
    )
    assert stale.status_code == 409 and stale.is_json
    assert "Someone else changed this threat" in stale.json["error"]
    db.session.expire_all()
    assert db.session.get(Threat, threat.id).title == "First edit"


def test_threat_form_opened_before_an_api_edit_gets_a_clear_message(client_as, token_of, register):
    threat = register.threat()
    browser = client_as(Role.SECURITY)
    page = browser.get(f"/threats/{threat.id}/edit").get_data(as_text=True)
    match = re.search(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', page)
    version = match.group(1) or match.group(2)

    api_edit = browser.application.test_client().patch(
        f"/api/v1/threats/{threat.id}",
        headers=_bearer(token_of(Role.SECURITY)),
        json={"version": int(version), "title": "Edited through the API"},
    )
    assert api_edit.status_code == 200

    form = {
        "title": "Edited in the form",
        "source": "internal",
        "status": "identified",
        "identified_on": "2020-07-15",
        "inherent_likelihood": "4",
        "inherent_impact": "4",
        "residual_likelihood": "3",
        "residual_impact": "3",
        "treatment": "",
        "version": version,
    }
    response = browser.post(f"/threats/{threat.id}/edit", data=form)
    assert response.status_code == 409
    assert "Someone else changed this threat since you opened it" in response.text
    db.session.expire_all()
    assert db.session.get(Threat, threat.id).title == "Edited through the API"
