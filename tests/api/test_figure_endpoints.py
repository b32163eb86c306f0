"""Figure endpoints answer what the pages showing the same figure show."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.extensions import db
from app.models.user import Role
from app.threats.risk import rescore_threat
from tests.api import factories as f

TODAY = date(2021, 1, 15)


@pytest.fixture(autouse=True)
def pinned_today(app):
    previous = app.config.get("FRONTLINE_TODAY")
    app.config["FRONTLINE_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config["FRONTLINE_TODAY"] = previous


def _register():
    a = f.threat("Alpha", on=date(2020, 7, 10), inherent=(5, 5), residual=(4, 4))
    b = f.threat("Bravo", on=date(2020, 7, 10), inherent=(4, 4), residual=(3, 3))
    c = f.threat("Charlie", on=date(2020, 8, 10), inherent=(5, 4), residual=(3, 3))
    db.session.flush()
    # Bravo drops in Q2: the Q1 picture must not move.
    rescore_threat(
        b, inherent=(4, 4), residual=(1, 2), changed_on=date(2020, 11, 2), author_id=None
    )
    db.session.commit()
    return a, b, c


def page_cells(client, url: str) -> dict[tuple[int, int], int]:
    text = client.get(url).text
    found = re.findall(r'data-cell="(\d+)-(\d+)" data-count="(\d+)"', text)
    return {(int(li), int(im)): int(n) for li, im, n in found if int(n)}


def page_ids(client, url: str) -> list[int]:
    return sorted({int(i) for i in re.findall(r'href="/threats/(\d+)"', client.get(url).text)})


@pytest.mark.parametrize("query", ["", "?kind=inherent", "?quarter=FY20-21 Q1"])
def test_heatmap_cells_and_their_threats_equal_the_page(api_get, client_as, query):
    _register()
    client = client_as(Role.VIEWER)
    body = api_get(f"/api/v1/heatmap{query}").json
    cells = {(c["likelihood"], c["impact"]): c for c in body["cells"]}
    shown = page_cells(client, f"/heatmap{query}")
    assert {k: c["count"] for k, c in cells.items() if c["count"]} == shown
    assert body["total"] == sum(shown.values()) == 3
    kind = "inherent" if "inherent" in query else "residual"
    for (li, im), cell in cells.items():
        assert len(cell["threat_ids"]) == cell["count"]
        if cell["count"]:
            as_of = f"&as_of={body['as_of']}" if "quarter" in query else ""
            link = f"/threats?kind={kind}&l={li}&i={im}{as_of}"
            assert cell["threat_ids"] == page_ids(client, link)


def test_heatmap_as_of_a_date_and_refusals(api_get):
    a, b, c = _register()
    q1 = api_get("/api/v1/heatmap?date=2020-09-30").json
    cells = {(x["likelihood"], x["impact"]): x["threat_ids"] for x in q1["cells"]}
    assert cells[(3, 3)] == sorted([b.id, c.id]) and cells[(4, 4)] == [a.id]
    assert api_get("/api/v1/heatmap?quarter=FY20-21 Q1").json["cells"] == q1["cells"]
    assert api_get("/api/v1/heatmap?quarter=FY20-21 Q3").status_code == 422  # not ended
    assert api_get("/api/v1/heatmap?quarter=FY20-21 Q1&date=2020-09-30").status_code == 422
    assert api_get("/api/v1/heatmap?kind=both").status_code == 422


def test_top_threats_equal_the_register_page_and_go_back_in_time(api_get, client_as):
    a, b, c = _register()
    body = api_get("/api/v1/top-threats?n=2").json
    assert [t["title"] for t in body["threats"]] == ["Alpha", "Charlie"]
    text = client_as(Role.VIEWER).get("/threats?top=2").text
    section = text[text.index('data-testid="top-threats"') :]
    assert re.findall(r'href="/threats/\d+">([^<]+)<', section)[:2] == ["Alpha", "Charlie"]
    # Ties on residual go to the higher inherent score: Charlie (20) before Bravo (16).
    then = api_get("/api/v1/top-threats?n=3&date=2020-09-30").json["threats"]
    assert [(t["rank"], t["id"], t["residual_score"]) for t in then] == [
        (1, a.id, 16),
        (2, c.id, 9),
        (3, b.id, 9),  # as it stood then: lowered to 2 in November
    ]
    now = api_get("/api/v1/top-threats?n=3").json["threats"]
    assert now[2]["id"] == b.id and now[2]["residual_score"] == 2
    before = api_get("/api/v1/top-threats?n=3&date=2020-07-31").json["threats"]
    assert [t["id"] for t in before] == [a.id, b.id]  # Charlie not yet identified


def test_quarter_figures_equal_the_quarter_page(api_get, client_as):
    a, b, c = _register()
    f.countermeasure("MFA", deployed_on=date(2020, 11, 1), threats=[b])
    f.countermeasure("Backups", deployed_on=date(2020, 8, 1), threats=[a])
    f.countermeasure("Late", target_quarter_start=date(2020, 10, 1), planned_on=date(2020, 10, 5))
    db.session.commit()
    body = api_get("/api/v1/quarters/FY20-21 Q2").json
    page = client_as(Role.VIEWER).get("/quarters/FY20-21 Q2").text
    shown = re.search(r'data-testid="deployed-in-quarter">(\d+)<', page).group(1)
    assert body["countermeasures_deployed"] == int(shown) == 1
    assert body["countermeasures_deployed_to_date"] == 2
    assert body["state"] == "over" and body["target"] >= 1 and body["goal"] >= 1
    assert [x["title"] for x in body["slipped"]] == ["Late"]
    assert "Late" in page
    current = api_get("/api/v1/quarters/FY20-21 Q3").json
    assert current["state"] == "in_progress"
    future = api_get("/api/v1/quarters/FY20-21 Q4")
    assert future.status_code == 422 and "nothing to measure" in future.json["errors"]["label"]
