"""Creating and changing the register through the API: the pages' service functions, their
messages as JSON (422), optimistic locking (409), roles, and the audit trail."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Countermeasure,
    CountermeasureStatus,
    Effectiveness,
    Position,
    PositionStatus,
    Responsibility,
    StaffMember,
    System,
)
from app.models.audit import AuditEntry
from app.models.user import Role
from tests.api import factories as f


@pytest.fixture
def api(client, token_of):
    """``api(Role.MANAGER).post(url, json=...)``: a client sending that role's token."""

    class Caller:
        def __init__(self, role):
            self.headers = {"Authorization": f"Bearer {token_of(role)}"}

        def __getattr__(self, method):
            def call(url, **kwargs):
                return getattr(client, method)(url, headers=self.headers, **kwargs)

            return call

    return Caller


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit(entity_type: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == entity_type).order_by(AuditEntry.id)
        )
    )


# ---- systems, staff, responsibilities -------------------------------------------------


def test_manager_creates_and_edits_a_system_audited_as_themselves(api):
    manager = api(Role.MANAGER)
    created = manager.post("/api/v1/systems", json={"name": "Billing", "criticality": "high"})
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["name"], body["criticality"], body["in_production"]) == ("Billing", "high", True)
    changed = manager.patch(
        f"/api/v1/systems/{body['id']}", json={"version": body["version"], "team": "SRE"}
    )
    assert changed.status_code == 200, changed.json
    assert (changed.json["name"], changed.json["team"]) == ("Billing", "SRE")
    assert changed.json["version"] == body["version"] + 1
    entries = audit("System")
    assert [e.action for e in entries] == ["create", "update"]
    assert {e.actor for e in entries} == {"manager@test.example"}
    assert entries[1].new_values == {"team": "SRE"}


def test_service_refusals_are_422_with_a_message_per_field_and_nothing_written(api):
    manager = api(Role.MANAGER)
    f.system("Billing")
    db.session.commit()
    duplicate = manager.post("/api/v1/systems", json={"name": "billing"})
    assert duplicate.status_code == 422
    assert duplicate.json["errors"] == {"name": 'A system named "billing" already exists.'}
    missing = manager.post("/api/v1/systems", json={"team": "SRE"})
    assert missing.status_code == 422 and missing.json["errors"] == {"name": "Enter a name."}
    unknown = manager.post("/api/v1/systems", json={"name": "X", "colour": "red"})
    assert unknown.status_code == 422 and "colour" in unknown.json["errors"]
    assert count(System) == 1 and len(audit("System")) == 1  # the setup's own row


def test_patch_needs_the_version_it_read(api):
    system = f.system("Billing")
    db.session.commit()
    response = api(Role.MANAGER).patch(f"/api/v1/systems/{system.id}", json={"team": "SRE"})
    assert response.status_code == 422 and "version" in response.json["errors"]
    db.session.refresh(system)
    assert system.team == ""


def test_responsibility_dates_are_checked_by_the_service(api):
    manager = api(Role.MANAGER)
    billing, ada = f.system("Billing"), f.staff("Ada")
    db.session.commit()
    bad = manager.post(
        "/api/v1/responsibilities",
        json={
            "staff_member_id": ada.id,
            "system_id": billing.id,
            "since": "2020-10-01",
            "until": "2020-09-01",
        },
    )
    assert bad.status_code == 422 and "start date" in bad.json["errors"]["until"]
    nobody = manager.post("/api/v1/responsibilities", json={"system_id": billing.id})
    assert nobody.json["errors"] == {  # every refused field at once
        "staff_member_id": "Choose a staff member.",
        "since": "Enter the date the responsibility starts.",
    }
    assert count(Responsibility) == 0
    good = manager.post(
        "/api/v1/responsibilities",
        json={"staff_member_id": ada.id, "system_id": billing.id, "since": "2020-10-01"},
    )
    assert good.status_code == 201
    assert good.json["staff_member"] == {"id": ada.id, "name": "Ada"}


def test_a_leaving_date_that_makes_a_spof_needs_confirmation(api):
    manager = api(Role.MANAGER)
    billing = f.system("Billing")
    ada, bob = f.staff("Ada"), f.staff("Bob")
    f.responsibility(ada, billing)
    f.responsibility(bob, billing)
    db.session.commit()
    url = f"/api/v1/staff/{bob.id}"
    refused = manager.patch(url, json={"version": bob.version, "left_on": "2021-01-10"})
    assert refused.status_code == 422
    message = refused.json["errors"]["confirm_impact"]
    assert "1 production system (Billing) a single point of failure" in message
    db.session.refresh(bob)
    assert bob.left_on is None
    confirmed = manager.patch(
        url, json={"version": bob.version, "left_on": "2021-01-10", "confirm_impact": True}
    )
    assert confirmed.status_code == 200 and confirmed.json["left_on"] == "2021-01-10"
    assert confirmed.json["active"] is False and confirmed.json["name"] == "Bob"


def test_positions_open_change_and_fill_with_a_new_hire(api):
    manager = api(Role.MANAGER)
    billing = f.system("Billing")
    db.session.commit()
    opened = manager.post(
        "/api/v1/positions",
        json={"title": "SRE", "team": "Ops", "system_ids": [billing.id], "opened_on": "2020-10-01"},
    )
    assert opened.status_code == 201, opened.json
    position = opened.json
    url = f"/api/v1/positions/{position['id']}"
    renamed = manager.patch(url, json={"version": position["version"], "notes": "Urgent"})
    assert renamed.status_code == 200 and renamed.json["notes"] == "Urgent"
    assert renamed.json["systems"] == [{"id": billing.id, "name": "Billing"}]
    no_hire = manager.post(
        url + "/status",
        json={"version": renamed.json["version"], "status": "filled", "changed_on": "2020-12-01"},
    )
    assert no_hire.status_code == 422 and "needs its hire" in no_hire.json["errors"]["hire_id"]
    filled = manager.post(
        url + "/status",
        json={
            "version": renamed.json["version"],
            "status": "filled",
            "changed_on": "2020-12-01",
            "new_hire_name": "Cleo",
        },
    )
    assert filled.status_code == 200, filled.json
    assert filled.json["status"] == "filled" and filled.json["hire"]["name"] == "Cleo"
    assert [c["status"] for c in filled.json["status_history"]] == ["planned", "filled"]
    cleo = db.session.scalar(select(StaffMember).where(StaffMember.name == "Cleo"))
    assert [r.system_id for r in cleo.responsibilities] == [billing.id]
    assert db.session.get(Position, position["id"]).status == PositionStatus.FILLED


# ---- countermeasures --------------------------------------------------------------------


@pytest.fixture
def demo_today(app, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", "2021-01-15")


def test_security_plans_deploys_and_verifies_a_countermeasure(api, users, demo_today):
    security = api(Role.SECURITY)
    threat = f.threat("Phishing", inherent=(4, 4), residual=(4, 4))
    db.session.commit()
    planned = security.post(
        "/api/v1/countermeasures",
        json={"title": "MFA", "threat_ids": [threat.id], "target_quarter": "FY20-21 Q3"},
    )
    assert planned.status_code == 201, planned.json
    cm = planned.json
    assert cm["status"] == "planned" and cm["target_quarter"] == "FY20-21 Q3"
    url = f"/api/v1/countermeasures/{cm['id']}"
    started = security.post(
        url + "/status",
        json={"version": cm["version"], "status": "in_progress", "changed_on": "2021-01-15"},
    )
    assert started.status_code == 200, started.json
    assert started.json["status"] == "in_progress"
    deployed = security.post(
        url + "/deploy",
        json={
            "version": started.json["version"],
            "deployed_on": "2021-01-15",
            "residuals": [{"threat_id": threat.id, "likelihood": 2, "impact": 3}],
        },
    )
    assert deployed.status_code == 200, deployed.json
    assert deployed.json["deployed_quarter"] == "FY20-21 Q3"
    db.session.refresh(threat)
    assert (threat.residual_likelihood, threat.residual_impact) == (2, 3)
    assert threat.score_changes[-1].countermeasure_id == cm["id"]
    verified = security.post(
        url + "/verify",
        json={
            "version": deployed.json["version"],
            "verified_on": "2021-01-15",
            "verified_by_id": users[Role.SECURITY].id,
            "effectiveness": "yes",
        },
    )
    assert verified.status_code == 200, verified.json
    saved = db.session.get(Countermeasure, cm["id"])
    assert (saved.status, saved.effectiveness) == (
        CountermeasureStatus.DEPLOYED,
        Effectiveness.YES,
    )
    assert {e.actor for e in audit("Countermeasure")} == {"security@test.example"}


def test_countermeasure_rules_come_back_per_field(api):
    security = api(Role.SECURITY)
    cm = f.countermeasure("MFA")
    db.session.commit()
    future = security.post(
        f"/api/v1/countermeasures/{cm.id}/deploy",
        json={"version": cm.version, "deployed_on": "2030-01-01"},
    )
    assert future.status_code == 422
    assert "cannot be in the future" in future.json["errors"]["deployed_on"]
    bad = security.post(
        "/api/v1/countermeasures",
        json={"title": "", "threat_ids": [999], "target_quarter": "soon"},
    )
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"title", "threat_ids", "target_quarter"}
    assert count(Countermeasure) == 1
    db.session.refresh(cm)
    assert cm.status == CountermeasureStatus.PLANNED and cm.deployed_on is None


# ---- who may write --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "url", "body"),
    [
        (Role.VIEWER, "/api/v1/systems", {"name": "X"}),
        (Role.SECURITY, "/api/v1/systems", {"name": "X"}),
        (Role.VIEWER, "/api/v1/countermeasures", {"title": "X"}),
        (Role.MANAGER, "/api/v1/countermeasures", {"title": "X"}),
    ],
)
def test_roles_that_may_not_write_get_403_and_nothing_is_written(api, role, url, body):
    response = api(role).post(url, json=body)
    assert response.status_code == 403 and response.is_json
    assert count(System) == 0 and count(Countermeasure) == 0


def test_a_viewer_token_may_read_but_not_patch(api):
    system = f.system("Billing")
    db.session.commit()
    viewer = api(Role.VIEWER)
    assert viewer.get(f"/api/v1/systems/{system.id}").status_code == 200
    response = viewer.patch(f"/api/v1/systems/{system.id}", json={"version": 1, "name": "X"})
    assert response.status_code == 403
    db.session.refresh(system)
    assert system.name == "Billing"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_a_browser_session_reads_the_api_but_cannot_write_through_it(client_as, role):
    system = f.system("Billing")
    db.session.commit()
    browser = client_as(role)
    assert browser.get("/api/v1/systems").json["total"] == 1
    created = browser.post("/api/v1/systems", json={"name": "Wiki"})
    assert created.status_code == 401 and "personal token" in created.json["error"]
    changed = browser.patch(f"/api/v1/systems/{system.id}", json={"version": 1, "name": "X"})
    assert changed.status_code == 401
    assert [s.name for s in db.session.scalars(select(System))] == ["Billing"]
    assert [e.action for e in audit("System")] == ["create"]


# ---- the same figures as the pages ---------------------------------------------------


def test_api_figures_are_the_pages_figures(api):
    from app import fiscal
    from app.countermeasures import figures as cm_figures
    from app.coverage import figures as coverage_figures

    billing, wiki = f.system("Billing"), f.system("Wiki")
    ada = f.staff("Ada")
    f.responsibility(ada, billing)
    f.responsibility(ada, wiki, until=date(2020, 11, 1))
    big = f.threat("Ransomware", on=date(2020, 7, 10), residual=(5, 5))
    f.countermeasure("Backups", deployed_on=date(2020, 8, 1), threats=[big])
    f.countermeasure("EDR", deployed_on=date(2020, 11, 15), threats=[big])
    db.session.commit()
    viewer = api(Role.VIEWER)
    coverage = viewer.get("/api/v1/coverage?date=2020-12-31").json
    expected = coverage_figures.coverage_on(date(2020, 12, 31))
    assert (coverage["spof_staff_count"], coverage["uncovered_count"]) == (
        expected.spof_staff_count,
        expected.uncovered_count,
    )
    quarter = fiscal.quarter_or_none("FY20-21 Q2")
    body = viewer.get("/api/v1/quarters/FY20-21 Q2").json
    assert body["countermeasures_deployed"] == cm_figures.countermeasures_deployed(quarter) == 1
    assert (
        body["countermeasures_deployed_to_date"]
        == cm_figures.countermeasures_deployed_to_date(quarter)
        == 2
    )
    treated = cm_figures.top_threats_treated(quarter, cm_figures.quarter_target())
    assert [(t["id"], t["treated"]) for t in body["top_threats"]] == [
        (t.threat.id, t.treated) for t in treated
    ]
    assert [c["title"] for c in body["top_threats"][0]["countermeasures"]] == ["EDR"]
