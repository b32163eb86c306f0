"""A write through the API names the published quarter reports it makes differ, as the forms
do: a change dated on or before a published quarter's last day is a correction of it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.extensions import db
from app.models import Objective
from app.models.reports import ReportPublication
from app.models.user import Role
from tests.api import factories as f


@pytest.fixture
def published(app, monkeypatch, users):
    """FY20-21 Q1 and Q2 published; today is in Q3."""
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", "2021-01-15")
    objective = Objective(title="Front Line Defenses", fiscal_year=2020)
    db.session.add(objective)
    db.session.flush()
    for start, on in ((date(2020, 7, 1), date(2020, 10, 6)), (date(2020, 10, 1), date(2021, 1, 5))):
        db.session.add(
            ReportPublication(
                objective_id=objective.id,
                quarter_start=start,
                generated_on=on,
                published_at=datetime(on.year, on.month, on.day, 9, tzinfo=UTC),
                pdf=b"%PDF",
                figures={},
            )
        )
    db.session.commit()


@pytest.fixture
def call(client, token_of):
    def make(role: Role):
        headers = {"Authorization": f"Bearer {token_of(role)}"}

        def send(method: str, url: str, body: dict):
            return getattr(client, method)(url, headers=headers, json=body)

        return send

    return make


def quarters(response) -> list[str]:
    assert response.status_code in (200, 201), response.json
    return [w["quarter"] for w in response.json["warnings"]]


def test_a_leaving_date_inside_a_published_quarter_names_that_quarter_on(published, call):
    manager = call(Role.MANAGER)
    ada = f.staff("Ada")
    db.session.commit()
    url = f"/api/v1/staff/{ada.id}"
    left = manager("patch", url, {"version": ada.version, "left_on": "2020-11-30"})
    assert quarters(left) == ["FY20-21 Q2"]
    warning = left.json["warnings"][0]
    assert warning["objective"] == "Front Line Defenses"
    assert warning["published_on"] == "2021-01-05"
    assert "2020-12-01" in warning["message"]  # the last working day: gone from the next
    # Leaving today changes no published quarter: the list is there, and empty.
    back = manager("patch", url, {"version": left.json["version"], "left_on": "2021-01-15"})
    assert quarters(back) == ["FY20-21 Q2"]  # moving it off 2020-11-30 corrects Q2 again
    later = manager("patch", url, {"version": back.json["version"], "left_on": "2021-01-14"})
    assert quarters(later) == []


def test_a_responsibility_and_a_retirement_name_every_quarter_from_their_day(published, call):
    manager = call(Role.MANAGER)
    billing, ada = f.system("Billing"), f.staff("Ada")
    db.session.commit()
    held = manager(
        "post",
        "/api/v1/responsibilities",
        {"staff_member_id": ada.id, "system_id": billing.id, "since": "2020-08-01"},
    )
    assert quarters(held) == ["FY20-21 Q1", "FY20-21 Q2"]
    ended = manager(
        "patch",
        f"/api/v1/responsibilities/{held.json['id']}",
        {"version": held.json["version"], "until": "2021-01-10", "confirm_impact": True},
    )
    assert quarters(ended) == []
    retired = manager(
        "patch",
        f"/api/v1/systems/{billing.id}",
        {"version": billing.version, "retired_on": "2020-12-15"},
    )
    assert quarters(retired) == ["FY20-21 Q2"]


def test_threat_and_countermeasure_changes_name_the_quarters_their_dates_fall_in(published, call):
    security = call(Role.SECURITY)
    threat = f.threat("Phishing", on=date(2020, 8, 1), inherent=(4, 4), residual=(4, 4))
    db.session.commit()
    archived = security("post", f"/api/v1/threats/{threat.id}/archive", {"on": "2020-12-20"})
    assert quarters(archived) == ["FY20-21 Q2"]
    restored = security("post", f"/api/v1/threats/{threat.id}/restore", {})
    assert quarters(restored) == []  # today: no published quarter moves
    planned = security(
        "post",
        "/api/v1/countermeasures",
        {
            "title": "MFA",
            "threat_ids": [threat.id],
            "planned_on": "2020-10-05",
            "target_quarter": "FY20-21 Q2",
        },
    )
    assert quarters(planned) == ["FY20-21 Q2"]
    deployed = security(
        "post",
        f"/api/v1/countermeasures/{planned.json['id']}/deploy",
        {"version": planned.json["version"], "deployed_on": "2021-01-04"},
    )
    assert quarters(deployed) == []


def test_a_refused_write_carries_no_warning_and_reads_carry_none(published, call, api_get):
    manager = call(Role.MANAGER)
    ada = f.staff("Ada")
    db.session.commit()
    refused = manager("patch", f"/api/v1/staff/{ada.id}", {"version": 99, "left_on": "2020-11-30"})
    assert refused.status_code == 409 and "warnings" not in refused.json
    # A later, unrelated write does not inherit the refused change's day.
    renamed = manager("patch", f"/api/v1/staff/{ada.id}", {"version": ada.version, "team": "Ops"})
    assert quarters(renamed) == []
    assert "warnings" not in api_get(f"/api/v1/staff/{ada.id}").json


def test_the_schema_documents_the_warnings_on_write_answers(api_get):
    document = api_get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    warning = schemas["PublishedReportWarning"]
    assert set(warning["required"]) == {"objective", "quarter", "published_on", "message"}
    for name in ("ThreatDetail", "CountermeasureDetail", "System", "Staff", "Responsibility"):
        field = schemas[name]["properties"]["warnings"]
        assert field["readOnly"] is True
        assert "published quarter reports" in field["description"]
