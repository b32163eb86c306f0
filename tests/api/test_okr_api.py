"""Objectives, key results and quarterly statuses through the API: the forms' service,
the version checked, the audit trail kept, the OKR page showing what was written."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, KeyResultStatus
from app.models.user import Role

TODAY = date(2021, 1, 15)


@pytest.fixture(autouse=True)
def pinned_today(app):
    previous = app.config.get("FRONTLINE_TODAY")
    app.config["FRONTLINE_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config["FRONTLINE_TODAY"] = previous


@pytest.fixture
def manager(client, token_of):
    headers = {"Authorization": f"Bearer {token_of(Role.MANAGER)}"}

    class Caller:
        def post(self, url, json):
            return client.post(url, json=json, headers=headers)

        def patch(self, url, json):
            return client.patch(url, json=json, headers=headers)

        def get(self, url):
            return client.get(url, headers=headers)

    return Caller()


def test_objective_key_result_and_status_round_trip(manager, client_as):
    created = manager.post(
        "/api/v1/objectives", {"title": "Front Line Defenses", "fiscal_year": "FY20-21"}
    )
    assert created.status_code == 201, created.json
    objective = created.json
    assert objective["fiscal_year"] == "FY20-21" and objective["version"] == 1
    kr = manager.post(
        f"/api/v1/objectives/{objective['id']}/key-results",
        {"code": "KR3", "statement": "Deploy countermeasures", "goal_value": 6, "goal_unit": "cm"},
    )
    assert kr.status_code == 201, kr.json
    kr_id = kr.json["id"]
    status = manager.post(
        f"/api/v1/key-results/{kr_id}/statuses",
        {"quarter": "FY20-21 Q2", "text": "4 countermeasures deployed", "value": 4,
         "rating": "on_track"},
    )  # fmt: skip
    assert status.status_code == 200, status.json
    assert status.json["quarter"] == "FY20-21 Q2" and status.json["version"] == 1
    # The OKR page shows what the API wrote (same service, same table).
    page = client_as(Role.VIEWER).get("/okrs?year=FY20-21").text
    assert "4 countermeasures deployed" in page and "KR3" in page
    read = manager.get(f"/api/v1/objectives/{objective['id']}").json
    assert read["key_results"][0]["statuses"][0]["text"] == "4 countermeasures deployed"
    assert db.session.scalar(
        select(AuditEntry.id).where(AuditEntry.entity_type == "KeyResultStatus")
    )


def test_updates_need_the_version_read(manager):
    objective = manager.post("/api/v1/objectives", {"title": "O", "fiscal_year": "FY20-21"}).json
    url = f"/api/v1/objectives/{objective['id']}"
    renamed = manager.patch(url, {"version": 1, "title": "Renamed"})
    assert renamed.status_code == 200 and renamed.json["version"] == 2
    stale = manager.patch(url, {"version": 1, "title": "Again"})
    assert stale.status_code == 409
    assert manager.get(url).json["title"] == "Renamed"
    kr = manager.post(f"{url}/key-results", {"statement": "Hire"}).json
    first = manager.post(
        f"/api/v1/key-results/{kr['id']}/statuses", {"quarter": "FY20-21 Q1", "text": "0%"}
    )
    assert first.status_code == 200
    blind = manager.post(
        f"/api/v1/key-results/{kr['id']}/statuses", {"quarter": "FY20-21 Q1", "text": "25%"}
    )
    assert blind.status_code == 409  # rewriting without the version read
    rewritten = manager.post(
        f"/api/v1/key-results/{kr['id']}/statuses",
        {"quarter": "FY20-21 Q1", "text": "25%", "version": first.json["version"]},
    )
    assert rewritten.status_code == 200 and rewritten.json["text"] == "25%"
    assert db.session.scalars(select(KeyResultStatus.text)).all() == ["25%"]
    kr_patch = manager.patch(f"/api/v1/key-results/{kr['id']}", {"version": 9, "code": "X"})
    assert kr_patch.status_code == 409


def test_the_forms_rules_answer_422_and_write_nothing(manager, api_get):
    assert manager.post("/api/v1/objectives", {"fiscal_year": "FY20-21"}).status_code == 422
    objective = manager.post("/api/v1/objectives", {"title": "O", "fiscal_year": "FY20-21"}).json
    kr = manager.post(f"/api/v1/objectives/{objective['id']}/key-results", {"statement": "S"})
    later = manager.post(
        f"/api/v1/key-results/{kr.json['id']}/statuses", {"quarter": "FY20-21 Q4", "text": "x"}
    )
    assert later.status_code == 422 and "not started" in later.json["errors"]["quarter"]
    other_year = manager.post(
        f"/api/v1/key-results/{kr.json['id']}/statuses", {"quarter": "FY19-20 Q4", "text": "x"}
    )
    assert other_year.status_code == 422
    assert db.session.scalars(select(KeyResultStatus)).all() == []
    viewer = api_get(f"/api/v1/objectives/{objective['id']}")
    assert viewer.status_code == 200


def test_a_viewer_token_cannot_write_okrs(client, token_of):
    headers = {"Authorization": f"Bearer {token_of(Role.VIEWER)}"}
    response = client.post(
        "/api/v1/objectives", json={"title": "O", "fiscal_year": "FY20-21"}, headers=headers
    )
    assert response.status_code == 403


def test_the_baseline_quarter_is_read_and_written_through_the_api(manager):
    objective = manager.post("/api/v1/objectives", {"title": "O", "fiscal_year": "FY20-21"}).json
    kr = manager.post(
        f"/api/v1/objectives/{objective['id']}/key-results",
        {"statement": "Deploy", "goal_value": 6, "baseline_quarter": "FY20-21 Q1"},
    )
    assert kr.status_code == 201, kr.json
    assert kr.json["baseline_quarter"] == "FY20-21 Q1"
    url = f"/api/v1/key-results/{kr.json['id']}"
    other = manager.patch(url, {"version": kr.json["version"], "baseline_quarter": "FY19-20 Q1"})
    assert other.status_code == 422 and "baseline_quarter" in other.json["errors"]
    kept = manager.patch(url, {"version": kr.json["version"], "statement": "Deploy more"})
    assert kept.status_code == 200 and kept.json["baseline_quarter"] == "FY20-21 Q1"
    cleared = manager.patch(url, {"version": kept.json["version"], "baseline_quarter": None})
    assert cleared.status_code == 200 and cleared.json["baseline_quarter"] is None
