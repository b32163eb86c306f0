"""Recording the past: a plan date, a deployment after it, and re-planning that leaves the
quarters already ended as they were."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.auth.tokens import create_token
from app.countermeasures import figures, service
from app.countermeasures import status as countermeasures_status
from app.domain.quarters import Quarter
from app.extensions import db
from app.models.countermeasures import (
    Countermeasure,
    CountermeasureStatus,
    CountermeasureTargetPeriod,
)
from app.models.user import Role
from app.validation import InputError

Q1, Q2, Q3 = (Quarter(2020, n, 7) for n in (1, 2, 3))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def api(client, users):
    def call(role, method, url, **kwargs):
        _, secret = create_token(users[role], "t")
        db.session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
        return getattr(client, method)(url, headers=headers, **kwargs)

    return call


def test_planned_in_the_past_then_deployed_after_that_day(users):
    cm = service.create_countermeasure(title="WAF", planned_on=date(2020, 10, 5), target_quarter=Q2)
    db.session.commit()
    assert cm.planned_on == date(2020, 10, 5)
    assert [c.changed_on for c in cm.status_changes] == [date(2020, 10, 5)]
    with pytest.raises(InputError) as refused:
        countermeasures_status.deploy_countermeasure(
            cm, deployed_on=date(2020, 10, 1), user_id=None
        )
    assert refused.value.errors["deployed_on"] == (
        "It was planned on 2020-10-05; it cannot have been deployed before that."
    )
    db.session.rollback()
    countermeasures_status.deploy_countermeasure(cm, deployed_on=date(2020, 11, 20), user_id=None)
    db.session.commit()
    assert figures.countermeasures_deployed(Q2) == 1
    assert figures.countermeasures_deployed_to_date(Q2) == 1


def test_a_plan_date_in_the_future_is_refused(users):
    with pytest.raises(InputError) as refused:
        service.create_countermeasure(title="WAF", planned_on=date(2021, 2, 1))
    assert refused.value.errors["planned_on"].startswith("The plan date cannot be in the future")
    assert count(Countermeasure) == 0


def test_an_existing_control_is_recorded_as_deployed_on_a_past_day(client_as, users):
    response = client_as(Role.SECURITY).post(
        "/countermeasures/new",
        data={"title": "Legacy IDS", "type": "DETECTIVE", "deployed_on": "2020-08-14"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    cm = db.session.scalar(select(Countermeasure))
    assert (cm.status, cm.deployed_on, cm.planned_on) == (
        CountermeasureStatus.DEPLOYED,
        date(2020, 8, 14),
        date(2020, 8, 14),
    )
    assert figures.countermeasures_deployed(Q1) == 1


def test_the_form_refuses_a_deployment_before_its_plan_date_beside_the_field(client_as, users):
    response = client_as(Role.SECURITY).post(
        "/countermeasures/new",
        data={
            "title": "Legacy IDS",
            "type": "DETECTIVE",
            "planned_on": "2020-09-01",
            "deployed_on": "2020-08-14",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "It was planned on 2020-09-01; it cannot have been deployed before that." in html
    assert count(Countermeasure) == 0


def test_the_api_takes_a_past_plan_date_and_counts_the_deployment_in_its_quarter(api):
    created = api(
        Role.SECURITY,
        "post",
        "/api/v1/countermeasures",
        json={"title": "WAF", "planned_on": "2020-10-05", "target_quarter": "FY20-21 Q2"},
    )
    assert created.status_code == 201, created.json
    assert created.json["planned_on"] == "2020-10-05"
    deployed = api(
        Role.SECURITY,
        "post",
        f"/api/v1/countermeasures/{created.json['id']}/deploy",
        json={"version": created.json["version"], "deployed_on": "2020-11-20"},
    )
    assert deployed.status_code in (200, 201), deployed.json
    quarter = api(Role.VIEWER, "get", "/api/v1/quarters/FY20-21 Q2").json
    assert quarter["countermeasures_deployed"] == 1
    assert quarter["countermeasures_deployed_to_date"] == 1
    future = api(
        Role.SECURITY,
        "post",
        "/api/v1/countermeasures",
        json={"title": "Later", "planned_on": "2021-03-01"},
    )
    assert future.status_code == 422 and "planned_on" in future.json["errors"]


def test_replanning_today_leaves_the_ended_quarter_slipped(users):
    cm = service.create_countermeasure(title="WAF", planned_on=date(2020, 9, 1), target_quarter=Q2)
    db.session.commit()
    assert figures.slipped_count(Q2) == 1
    service.update_countermeasure(cm, title="WAF", target_quarter=Q3)
    db.session.commit()
    # Q2 ended with it planned for Q2 and not deployed: still slipped there.
    assert figures.slipped_count(Q2) == 1
    assert [c.id for c in figures.slipped_countermeasures(Q3)] == [cm.id]
    periods = db.session.scalars(
        select(CountermeasureTargetPeriod).order_by(CountermeasureTargetPeriod.id)
    ).all()
    assert [(p.target_quarter_start, p.valid_from, p.valid_until) for p in periods] == [
        (Q2.first_day, date(2020, 9, 1), date(2021, 1, 15)),
        (Q3.first_day, date(2021, 1, 15), None),
    ]


def test_a_countermeasure_planned_after_a_quarter_ended_is_not_slipped_there(users):
    service.create_countermeasure(title="Late", planned_on=date(2021, 1, 10), target_quarter=Q2)
    db.session.commit()
    assert figures.slipped_count(Q2) == 0


def test_the_deployment_day_decides_the_quarter_at_its_edges(users):
    for title, day in (("Last day", date(2020, 12, 31)), ("First day", date(2021, 1, 1))):
        service.create_countermeasure(
            title=title, status=CountermeasureStatus.DEPLOYED, deployed_on=day
        )
    db.session.commit()
    assert figures.countermeasures_deployed(Q2) == 1
    assert figures.countermeasures_deployed(Q3) == 1
    assert figures.countermeasures_deployed_to_date(Q3) == 2
    assert figures.countermeasures_deployed_to_date(Quarter(2021, 1, 7)) == 0
