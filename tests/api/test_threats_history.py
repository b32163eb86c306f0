"""Dated threat states through the API: status change dates, dated archive, reviews."""

# The threat register's fixtures are used here by name.
# ruff: noqa: F811

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models.threats import ThreatStateChange
from app.models.user import Role
from tests.threats.conftest import pinned_today, register  # noqa: F401 - fixtures


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _states() -> int:
    return db.session.scalar(select(func.count()).select_from(ThreatStateChange))


def test_a_status_change_takes_its_date_and_is_in_the_state_history(client, token_of, register):
    threat = register.threat()
    auth = _bearer(token_of(Role.SECURITY))
    response = client.patch(
        f"/api/v1/threats/{threat.id}",
        headers=auth,
        json={
            "version": threat.version,
            "status": "closed",
            "treatment": "avoid",
            "status_changed_on": "2020-10-01",
        },
    )
    assert response.status_code == 200, response.json
    history = response.json["state_history"]
    assert [(h["changed_on"], h["status"]) for h in history] == [
        ("2020-07-15", "identified"),
        ("2020-10-01", "closed"),
    ]
    assert history[0]["superseded_on"] == "2020-10-01"


def test_bad_dates_answer_422_and_write_nothing(client, token_of, register):
    threat = register.threat()
    auth = _bearer(token_of(Role.SECURITY))
    before = _states()
    future = client.patch(
        f"/api/v1/threats/{threat.id}",
        headers=auth,
        json={"version": threat.version, "status": "assessed", "status_changed_on": "2021-02-01"},
    )
    assert future.status_code == 422
    assert "future" in future.json["errors"]["status_changed_on"]
    early = client.post(
        f"/api/v1/threats/{threat.id}/archive", headers=auth, json={"on": "2020-07-01"}
    )
    assert early.status_code == 422 and "before" in early.json["errors"]["on"]
    review = client.post(
        f"/api/v1/threats/{threat.id}/reviews", headers=auth, json={"reviewed_on": "2020-07-01"}
    )
    assert review.status_code == 422 and "reviewed_on" in review.json["errors"]
    assert _states() == before


def test_dated_archive_restore_and_review(client, token_of, register):
    threat = register.threat()
    auth = _bearer(token_of(Role.SECURITY))
    reviewed = client.post(
        f"/api/v1/threats/{threat.id}/reviews",
        headers=auth,
        json={"reviewed_on": "2020-09-01", "outcome": "Still open", "next_review_on": "2020-12-01"},
    )
    assert reviewed.status_code == 200, reviewed.json
    assert reviewed.json["next_review_on"] == "2020-12-01"
    assert reviewed.json["state_history"][-1]["kind"] == "review"
    archived = client.post(
        f"/api/v1/threats/{threat.id}/archive", headers=auth, json={"on": "2020-10-01"}
    )
    assert archived.status_code == 200 and archived.json["archived"] is True
    restored = client.post(f"/api/v1/threats/{threat.id}/restore", headers=auth)
    assert restored.status_code == 200 and restored.json["archived"] is False
    kinds = [(h["changed_on"], h["kind"]) for h in restored.json["state_history"]]
    assert kinds[-2:] == [("2020-10-01", "archived"), ("2021-01-15", "restored")]
    viewer = _bearer(token_of(Role.VIEWER))
    assert client.post(f"/api/v1/threats/{threat.id}/reviews", headers=viewer).status_code == 403
