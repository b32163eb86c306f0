"""The steps' inputs (a change of status, deployment, verification) are read by their
schemas in ``app.countermeasures.inputs``: any caller's values, one message per field."""

from __future__ import annotations

from datetime import date

import pytest

from app.countermeasures import service
from app.countermeasures import status as steps
from app.countermeasures.inputs import DEPLOYMENT, STATUS_CHANGE, VERIFICATION
from app.extensions import db
from app.inputs import read
from app.models.countermeasures import CountermeasureStatus, Effectiveness
from app.models.user import Role
from app.validation import InputError


def test_each_step_reads_text_as_the_pages_and_the_api_give_it():
    clean, refused = read(STATUS_CHANGE, {"status": "in_progress", "changed_on": "2021-01-04"})
    assert refused == {}
    assert clean == {"status": CountermeasureStatus.IN_PROGRESS, "changed_on": date(2021, 1, 4)}
    clean, refused = read(
        DEPLOYMENT,
        {"deployed_on": None, "residuals": [{"threat_id": 7, "likelihood": 2, "impact": 3}]},
    )
    assert clean == {"deployed_on": None, "evidence": None, "residuals": {7: (2, 3)}}
    clean, refused = read(
        VERIFICATION, {"verified_on": "", "verified_by_id": "x", "effectiveness": "maybe"}
    )
    assert clean["verified_on"] is None
    assert refused == {
        "verified_by_id": "Unknown user.",
        "effectiveness": '"maybe" is not one of: yes, partly, no.',
    }


def test_a_refused_date_keeps_its_own_message(users):
    cm = service.create_countermeasure(title="WAF", planned_on=date(2020, 10, 5))
    db.session.commit()
    with pytest.raises(InputError) as refused:
        steps.change_status(cm, "in_progress", changed_on="5 Jan", user_id=None)
    assert refused.value.errors == {
        "changed_on": '"5 Jan" is not a valid date; use YYYY-MM-DD, e.g. 2020-12-31.'
    }
    with pytest.raises(InputError) as refused:
        steps.change_status(cm, None, user_id=None)
    assert refused.value.errors == {
        "status": "Choose one.",
        "changed_on": "Give the date of the change.",
    }


def test_verification_needs_a_known_person(users):
    cm = service.create_countermeasure(title="WAF", planned_on=date(2020, 10, 5))
    steps.deploy_countermeasure(cm, deployed_on=date(2020, 11, 2), evidence=None, user_id=None)
    db.session.commit()
    assert cm.evidence == ""
    with pytest.raises(InputError) as refused:
        steps.verify_countermeasure(cm, verified_on=date(2020, 12, 1), verified_by_id=999_999)
    assert refused.value.errors == {
        "verified_by_id": "Unknown user.",
        "effectiveness": "Choose one.",
    }
    steps.verify_countermeasure(
        cm,
        verified_on="2020-12-01",
        verified_by_id=str(users[Role.SECURITY].id),
        effectiveness="yes",
    )
    assert (cm.verified_on, cm.effectiveness) == (date(2020, 12, 1), Effectiveness.YES)
