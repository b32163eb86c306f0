"""The countermeasure pages as each role uses them, and the bad input they refuse."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.countermeasures import service as countermeasures_service
from app.countermeasures import status as countermeasures_status
from app.extensions import db
from app.models.audit import AuditEntry
from app.models.countermeasures import (
    Countermeasure,
    CountermeasureStatus,
    CountermeasureStatusChange,
    Effectiveness,
)
from app.models.setting import get_setting
from app.models.threats import ThreatScoreChange
from app.models.user import Role
from bench.harness import count_queries


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def plan(title="Edge rate limiting", threats=(), **values):
    values.setdefault("planned_on", date(2020, 9, 1))
    cm = countermeasures_service.create_countermeasure(
        title=title, threat_ids=[t.id for t in threats], **values
    )
    db.session.commit()
    return cm


# --- create, edit, audit --------------------------------------------------------------


def test_security_plans_a_countermeasure_and_it_is_audited(client_as, users, make_threat):
    ddos = make_threat("DDoS", (5, 4))
    other = make_threat("Disinformation", (4, 4))
    db.session.commit()
    client = client_as(Role.SECURITY)
    assert client.get("/countermeasures/new").status_code == 200
    response = client.post(
        "/countermeasures/new",
        data={
            "title": "Upstream scrubbing",
            "description": "Provider scrubbing centre",
            "type": "PREVENTIVE",
            "threat_ids": [str(ddos.id)],
            "other_threats": f"#{other.id}",
            "owner_id": str(users[Role.SECURITY].id),
            "target_quarter": "FY20-21 Q3",
            "evidence": "https://wiki.example.org/scrubbing",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    cm = db.session.scalar(select(Countermeasure))
    assert cm.status == CountermeasureStatus.PLANNED
    assert {t.title for t in cm.threats} == {"DDoS", "Disinformation"}
    assert cm.target_quarter_start == date(2021, 1, 1)
    assert [(c.status, c.changed_on) for c in cm.status_changes] == [
        (CountermeasureStatus.PLANNED, date(2021, 1, 15))
    ]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "Countermeasure"))
    assert entry.action == "create" and entry.actor == "security@test.example"
    assert sorted(entry.new_values["threats"]) == sorted([str(ddos.id), str(other.id)])
    page = client.get(f"/countermeasures/{cm.id}").get_data(as_text=True)
    assert "Upstream scrubbing" in page
    assert '<a href="https://wiki.example.org/scrubbing" rel="noopener noreferrer">' in page


def test_evidence_is_escaped(client_as):
    cm = plan(evidence='<script>alert(1)</script> see https://x.example/a"onmouseover=1')
    page = client_as(Role.VIEWER).get(f"/countermeasures/{cm.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert '"onmouseover' not in page


def test_edit_with_a_stale_version_is_refused(client_as):
    cm = plan()
    client = client_as(Role.SECURITY)
    data = {"title": "Renamed", "type": "DETECTIVE", "version": str(cm.version)}
    countermeasures_service.update_countermeasure(cm, title="Someone else", version=cm.version)
    db.session.commit()
    response = client.post(f"/countermeasures/{cm.id}/edit", data=data)
    assert response.status_code == 409
    assert "Someone else changed this countermeasure" in response.get_data(as_text=True)
    assert db.session.get(Countermeasure, cm.id).title == "Someone else"


def test_viewer_and_manager_read_but_cannot_write(client_as):
    cm = plan()
    for role in (Role.VIEWER, Role.MANAGER):
        client = client_as(role)
        assert client.get("/countermeasures").status_code == 200
        assert client.get(f"/countermeasures/{cm.id}").status_code == 200
        assert client.get("/quarters/FY20-21 Q2").status_code == 200
        assert client.post("/countermeasures/new", data={"title": "x"}).status_code == 403
        assert client.post(f"/countermeasures/{cm.id}/deploy", data={}).status_code == 403
        assert client.get("/countermeasures/settings").status_code == 403
    assert count(Countermeasure) == 1


# --- status, deployment, verification -------------------------------------------------


def test_status_moves_are_dated_and_kept(client_as):
    cm = plan()
    client = client_as(Role.SECURITY)
    response = client.post(
        f"/countermeasures/{cm.id}/status",
        data={"status": "IN_PROGRESS", "changed_on": "2020-10-05", "version": cm.version},
    )
    assert response.status_code == 302
    changes = db.session.scalars(
        select(CountermeasureStatusChange).order_by(CountermeasureStatusChange.id)
    ).all()
    assert [(c.status.name, c.changed_on) for c in changes] == [
        ("PLANNED", date(2020, 9, 1)),
        ("IN_PROGRESS", date(2020, 10, 5)),
    ]
    # Deployment only through Deploy; backwards moves refused.
    response = client.post(
        f"/countermeasures/{cm.id}/status",
        data={"status": "DEPLOYED", "changed_on": "2020-10-06"},
    )
    assert response.status_code == 422 and "Use Deploy" in response.get_data(as_text=True)
    response = client.post(
        f"/countermeasures/{cm.id}/status", data={"status": "PLANNED", "changed_on": "2020-10-06"}
    )
    assert response.status_code == 422
    assert count(CountermeasureStatusChange) == 2


def test_deploying_rescores_the_treated_threats(client_as, users, make_threat):
    ddos = make_threat("DDoS", (5, 4))
    disinfo = make_threat("Disinformation", (4, 4))
    cm = plan(threats=[ddos, disinfo])
    client = client_as(Role.SECURITY)
    form = client.get(f"/countermeasures/{cm.id}/deploy").get_data(as_text=True)
    assert f'name="likelihood_{ddos.id}"' in form and f'name="impact_{disinfo.id}"' in form
    response = client.post(
        f"/countermeasures/{cm.id}/deploy",
        data={
            "deployed_on": "2020-12-31",
            f"likelihood_{ddos.id}": "3",
            f"impact_{ddos.id}": "4",
            f"likelihood_{disinfo.id}": "4",
            f"impact_{disinfo.id}": "4",
            "evidence": "Change CHG-1",
            "version": str(cm.version),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    cm = db.session.get(Countermeasure, cm.id)
    assert cm.status == CountermeasureStatus.DEPLOYED and cm.deployed_on == date(2020, 12, 31)
    assert cm.status_changes[-1].changed_on == date(2020, 12, 31)
    credited = db.session.scalars(
        select(ThreatScoreChange).where(ThreatScoreChange.countermeasure_id == cm.id)
    ).all()
    assert [(c.threat_id, c.residual_score, c.author_id) for c in credited] == [
        (ddos.id, 12, users[Role.SECURITY].id)
    ]
    page = client.get(f"/countermeasures/{cm.id}").get_data(as_text=True)
    assert "counts in" in page and "FY20-21 Q2" in page
    assert "−8" in page  # 20 before, 12 after
    quarter = client.get("/quarters/FY20-21-Q2").get_data(as_text=True)
    assert "−8" in quarter

    response = client.post(
        f"/countermeasures/{cm.id}/verify",
        data={
            "verified_on": "2021-01-10",
            "verified_by_id": str(users[Role.ADMIN].id),
            "effectiveness": "PARTLY",
        },
    )
    assert response.status_code == 302
    cm = db.session.get(Countermeasure, cm.id)
    assert (cm.verified_on, cm.verified_by_id, cm.effectiveness) == (
        date(2021, 1, 10),
        users[Role.ADMIN].id,
        Effectiveness.PARTLY,
    )


def _deploy_post(client, cm, **data):
    return client.post(f"/countermeasures/{cm.id}/deploy", data=data)


def test_bad_input_deployment_date_in_the_future(client_as, make_threat):
    ddos = make_threat("DDoS", (5, 4))
    cm = plan(threats=[ddos])
    before = count(AuditEntry)
    response = _deploy_post(
        client_as(Role.SECURITY),
        cm,
        deployed_on="2021-01-16",
        **{f"likelihood_{ddos.id}": "1", f"impact_{ddos.id}": "1"},
    )
    assert response.status_code == 200
    assert "cannot be in the future (today is 2021-01-15)" in response.get_data(as_text=True)
    cm = db.session.get(Countermeasure, cm.id)
    assert cm.status == CountermeasureStatus.PLANNED and cm.deployed_on is None
    assert count(ThreatScoreChange) == 1 and ddos.residual_score == 20
    assert count(AuditEntry) == before


@pytest.mark.parametrize("likelihood", ["0", "6", "high"])
def test_bad_input_crafted_residual_likelihood_on_deployment(client_as, make_threat, likelihood):
    ddos = make_threat("DDoS", (5, 4))
    cm = plan(threats=[ddos])
    before = count(AuditEntry)
    response = _deploy_post(
        client_as(Role.SECURITY),
        cm,
        deployed_on="2020-12-31",
        **{f"likelihood_{ddos.id}": likelihood, f"impact_{ddos.id}": "1"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # The message shows beside the likelihood it is about.
    cell = html.split(f'name="likelihood_{ddos.id}"')[1].split("</td>")[0]
    assert "is-invalid" in html and "invalid-feedback" in cell and "Not a valid choice" in cell
    cm = db.session.get(Countermeasure, cm.id)
    assert cm.status == CountermeasureStatus.PLANNED and cm.deployed_on is None
    assert count(ThreatScoreChange) == 1 and count(AuditEntry) == before


def test_bad_input_deployment_date_outside_the_calendar(client_as):
    cm = plan()
    before = count(AuditEntry)
    response = _deploy_post(client_as(Role.SECURITY), cm, deployed_on="0001-01-01")
    assert response.status_code == 200
    assert "0001-01-01 is out of range: give a date from 1900 to 2999." in response.get_data(
        as_text=True
    )
    assert db.session.get(Countermeasure, cm.id).status == CountermeasureStatus.PLANNED
    assert count(AuditEntry) == before


def test_bad_input_deployed_without_a_deployment_date(client_as):
    cm = plan()
    client = client_as(Role.SECURITY)
    before = count(AuditEntry)
    response = _deploy_post(client, cm, deployed_on="")
    assert "A deployed countermeasure needs its deployment date." in response.get_data(as_text=True)
    assert db.session.get(Countermeasure, cm.id).status == CountermeasureStatus.PLANNED
    # Clearing the date of one already deployed is refused too.
    countermeasures_status.deploy_countermeasure(cm, deployed_on=date(2020, 11, 1), user_id=None)
    db.session.commit()
    before = count(AuditEntry)
    response = client.post(
        f"/countermeasures/{cm.id}/edit", data={"title": cm.title, "type": "PREVENTIVE"}
    )
    assert "A deployed countermeasure needs its deployment date." in response.get_data(as_text=True)
    assert db.session.get(Countermeasure, cm.id).deployed_on == date(2020, 11, 1)
    assert count(AuditEntry) == before
    # And through the service, as the API will call it.
    with pytest.raises(countermeasures_service.InputError) as error:
        countermeasures_service.create_countermeasure(
            title="x", status="deployed", deployed_on=None
        )
    assert error.value.errors == {
        "deployed_on": "A deployed countermeasure needs its deployment date."
    }
    db.session.rollback()
    assert count(Countermeasure) == 1


def test_bad_input_linking_an_archived_threat(client_as, make_threat):
    archived = make_threat("Old threat", (3, 3))
    archived.archived_at = datetime(2020, 12, 1, tzinfo=UTC)
    db.session.commit()
    client = client_as(Role.SECURITY)
    before = count(AuditEntry)
    response = client.post(
        "/countermeasures/new",
        data={"title": "Patch it", "type": "PREVENTIVE", "other_threats": str(archived.id)},
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "is archived: a countermeasure cannot be linked to an archived threat" in text
    assert count(Countermeasure) == 0 and count(AuditEntry) == before
    cm = plan()
    response = client.post(
        f"/countermeasures/{cm.id}/edit",
        data={"title": cm.title, "type": "PREVENTIVE", "other_threats": str(archived.id)},
    )
    assert "cannot be linked to an archived threat" in response.get_data(as_text=True)
    assert db.session.get(Countermeasure, cm.id).threats == []


@pytest.mark.parametrize("label", ["FY20-21 Q5", "FY20-22 Q1", "Q2", "nonsense", "FY20-21%20Q9"])
def test_bad_input_unknown_quarter_label_is_a_clear_404(client_as, label):
    response = client_as(Role.VIEWER).get(f"/quarters/{label}")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert 'data-testid="error-page"' in text and "Unknown" in text
    assert "FY20-21 Q2" in text  # the message shows the expected form


@pytest.mark.parametrize("label", ["FY20-21 Q2", "FY20-21-Q2", "FY20-21%20Q2", "fy20-21 q2"])
def test_quarter_label_forms(client_as, label):
    response = client_as(Role.VIEWER).get(f"/quarters/{label}")
    assert response.status_code == 200
    assert '<h1 class="h3 mb-0" data-testid="quarter-label">FY20-21 Q2</h1>' in response.get_data(
        as_text=True
    )


def test_quarters_redirects_to_the_current_quarter_and_the_picker_choice(client_as):
    client = client_as(Role.VIEWER)
    assert client.get("/quarters").headers["Location"] == "/quarters/FY20-21-Q3"
    assert client.get("/quarters?quarter=FY20-21 Q1").headers["Location"] == "/quarters/FY20-21-Q1"
    assert client.get("/quarters?quarter=bad").status_code == 404


# --- the list ---------------------------------------------------------------------------


def test_list_filters_and_sorts(client_as, users, make_threat):
    ddos = make_threat("DDoS", (5, 4))
    a = plan("Alpha", threats=[ddos], type="detective", owner_id=users[Role.SECURITY].id)
    b = plan("Bravo", target_quarter="FY20-21 Q2")
    c = plan("Charlie", target_quarter="FY20-21 Q2")
    countermeasures_status.deploy_countermeasure(c, deployed_on=date(2021, 1, 4), user_id=None)
    db.session.commit()
    client = client_as(Role.VIEWER)

    def titles(query):
        page = client.get("/countermeasures" + query).get_data(as_text=True)
        return [t for t in ("Alpha", "Bravo", "Charlie") if f">{t}</a>" in page]

    assert titles("") == ["Alpha", "Bravo", "Charlie"]
    assert titles("?status=deployed") == ["Charlie"]
    assert titles("?type=detective") == ["Alpha"]
    assert titles(f"?owner={users[Role.SECURITY].id}") == ["Alpha"]
    assert titles(f"?threat={ddos.id}") == ["Alpha"]
    assert titles("?quarter=FY20-21 Q2") == ["Bravo"]  # Charlie counts in Q3 now
    assert titles("?quarter=FY20-21-Q3") == ["Charlie"]
    assert titles("?q=rav") == ["Bravo"]
    page = client.get("/countermeasures?sort=-title").get_data(as_text=True)
    assert page.index(">Charlie<") < page.index(">Bravo<") < page.index(">Alpha<")
    assert client.get("/countermeasures?sort=deployed").status_code == 200
    warning = client.get("/countermeasures?status=lost&quarter=FY99").get_data(as_text=True)
    assert "Unknown status" in warning and "The quarter filter was ignored" in warning
    assert a and b


def _queries(app, client, url):
    with count_queries(app) as counter:
        assert client.get(url).status_code == 200
    return counter["n"]


def test_query_count_does_not_grow_with_rows(app, client_as, make_threat):
    client = client_as(Role.VIEWER)
    threats = [make_threat(f"T{i}", (5 - i % 4, 4)) for i in range(4)]

    def add(n):
        for i in range(n):
            cm = plan(f"CM {i}", threats=threats[i % 4 : i % 4 + 2], target_quarter="FY20-21 Q2")
            countermeasures_status.deploy_countermeasure(
                cm,
                deployed_on=date(2020, 10, 1 + i % 28),
                residuals={threats[i % 4].id: (1, 1)} if i < 4 else None,
                user_id=None,
            )
            db.session.commit()

    add(3)
    small = [_queries(app, client, u) for u in ("/countermeasures", "/quarters/FY20-21 Q2")]
    add(40)
    large = [_queries(app, client, u) for u in ("/countermeasures", "/quarters/FY20-21 Q2")]
    assert small == large


# --- targets ----------------------------------------------------------------------------


def test_admin_sets_the_targets_and_bad_values_are_refused(client_as):
    client = client_as(Role.ADMIN)
    assert client.get("/countermeasures/settings").status_code == 200
    response = client.post(
        "/countermeasures/settings", data={"per_quarter": "0", "yearly_goal": "6"}
    )
    assert "Give a number from 1 to 50." in response.get_data(as_text=True)
    assert get_setting("countermeasures_per_quarter") is None
    response = client.post(
        "/countermeasures/settings", data={"per_quarter": "3", "yearly_goal": "12"}
    )
    assert response.status_code == 302
    assert get_setting("countermeasures_per_quarter") == 3
    assert get_setting("countermeasures_yearly_goal") == 12
    page = client.get("/quarters/FY20-21 Q2").get_data(as_text=True)
    assert "target 3 per quarter" in page and "of 12" in page
