"""On the demo: everyday threat work today leaves the past quarters as they were.

Closing the top threat of FY20-21 Q2, archiving another and re-scoring a third, all
today (2021-01-15), leave the FY20-21 Q1 and Q2 PDFs byte-identical and their
``/api/v1/quarters`` figures unchanged, while the figures as of today move.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.domain.quarters import Quarter
from app.extensions import db
from app.models.okrs import Objective
from app.models.threats import Threat
from app.models.user import Role
from app.seed import load_demo
from app.threats import archive, figures, service
from app.threats.as_of import top_threats_as_of

for _area in ("okrs", "threats", "countermeasures", "coverage"):
    pytest.importorskip(f"app.{_area}.figures")

TODAY = date(2021, 1, 15)
Q2 = Quarter(2020, 2)


@pytest.fixture
def demo(app, users, monkeypatch):
    load_demo()
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", TODAY.isoformat())
    return monkeypatch


def _past(client) -> dict:
    objective_id = db.session.scalar(
        select(Objective.id).where(
            Objective.title == "Front Line Defenses", Objective.fiscal_year == 2020
        )
    )
    seen = {}
    for label in ("FY20-21 Q1", "FY20-21 Q2"):
        pdf = client.get(
            "/reports/download", query_string={"objective": objective_id, "quarter": label}
        )
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        api = client.get(f"/api/v1/quarters/{label}")
        assert api.status_code == 200
        seen[label] = (pdf.data, api.get_json())
    return seen


def _today() -> tuple:
    return (
        figures.heatmap_as_of(TODAY, "residual"),
        figures.heatmap_as_of(TODAY, "inherent"),
        figures.top_threats(TODAY, 5),
        figures.open_critical_risks(TODAY),
        figures.overdue_reviews(TODAY),
    )


def test_closing_archiving_and_rescoring_today_leave_q1_and_q2_as_they_were(
    app, demo, client_as, users
):
    viewer = client_as(Role.VIEWER)
    before, today_before = _past(viewer), _today()
    author = users[Role.SECURITY].id
    top = top_threats_as_of(Q2.first_day, 3)
    closing = db.session.get(Threat, top[0].id)
    service.update_threat(closing, status="closed", treatment="avoid", author_id=author)
    archiving = db.session.get(Threat, top[1].id)
    archive.archive_threat(archiving, author)
    rescoring = db.session.get(Threat, top[2].id)
    service.update_threat(rescoring, residual_likelihood=1, residual_impact=1, author_id=author)
    db.session.commit()

    after, today_after = _past(viewer), _today()
    for label in before:
        assert after[label][1] == before[label][1], f"{label}: the API figures moved"
        assert after[label][0] == before[label][0], f"{label}: the PDF changed"
    assert today_after != today_before
    assert closing.id not in [t.id for t in today_after[2]]
    # Each change is on the threat's dated history, dated today.
    for threat in (closing, archiving, rescoring):
        assert threat.state_changes[-1].changed_on == TODAY
