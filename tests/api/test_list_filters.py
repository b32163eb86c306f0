"""The API lists take the list pages' query string: the same records, in the same order,
page by page, as the page and its CSV export."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

import pytest

from app.api.resources import PAGING
from app.domain.scoring import Level
from app.extensions import db
from app.models import Criticality, ThreatCategory
from app.models.user import Role
from app.threats.risk import risk_matrix
from tests.api import factories as f
from tests.transfer.test_export_filters import exported

TODAY = date(2021, 1, 15)


@pytest.fixture(autouse=True)
def pinned_today(app):
    previous = app.config.get("FRONTLINE_TODAY")
    app.config["FRONTLINE_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config["FRONTLINE_TODAY"] = previous


def page_ids(client, path: str, args: dict) -> list[list[int]]:
    """The ids each page of a list page shows, in its order."""
    pages = []
    for number in range(1, 20):
        text = client.get(path, query_string={**args, "page": number}).text
        found = [int(i) for i in dict.fromkeys(re.findall(rf'href="{path}/(\d+)"', text))]
        if not found:
            return pages
        pages.append(found)
    raise AssertionError("too many pages")


def api_ids(api_get, path: str, args: dict, per_page: int) -> list[list[int]]:
    pages = []
    for number in range(1, 20):
        response = api_get(
            f"/api/v1{path}", query_string={**args, "page": number, "per_page": per_page}
        )
        assert response.status_code == 200, response.json
        pages.append([item["id"] for item in response.json["items"]])
        if number >= response.json["pages"]:
            return pages
    raise AssertionError("too many pages")


def agree(client, api_get, path: str, args: dict, per_page: int, names: dict) -> list[int]:
    """Page, export and API list the same records in the same order, page by page."""
    on_page = page_ids(client, path, args)
    assert len(on_page) > 1
    assert api_ids(api_get, path, args, per_page) == on_page
    ids = [i for page in on_page for i in page]
    assert exported(client, f"/export{path}.csv?{urlencode(args)}") == [names[i] for i in ids]
    return ids


def test_threats_api_lists_what_the_register_lists(client_as, api_get):
    matrix = risk_matrix()
    low_high, top_high = matrix.score_range(Level.HIGH)
    high = next((li, im) for li in range(1, 6) for im in range(1, 6) if li * im == low_high)
    top = next((li, im) for li in range(1, 6) for im in range(1, 6) if li * im == top_high)
    web, other = ThreatCategory(name="Web"), ThreatCategory(name="Other")
    db.session.add_all([web, other])
    threats = []
    for i in range(32):  # more than one page (25 a page) of matches
        threats.append(
            f.threat(
                f"Data leak {i:02d}",
                category=web,
                residual=high if i % 3 else top,
                on=date(2020, 7 + i % 5, 1),
            )
        )
    f.threat("Data leak, low", category=web, residual=(1, 1))
    f.threat("Data leak elsewhere", category=other, residual=high)
    f.threat("Phishing", category=web, residual=high)
    db.session.commit()
    names = {t.id: t.title for t in threats}
    client = client_as(Role.VIEWER)
    for sort in ("-identified", "category", "-residual", "title"):
        # As the page's form sends it: empty values for "Any".
        args = {"q": "data", "level": "high", "category": web.id, "status": "", "sort": sort}
        assert len(agree(client, api_get, "/threats", args, 25, names)) == 32


def test_countermeasures_api_lists_what_the_page_lists(client_as, api_get):
    names = {}
    for i in range(80):  # 60 matches: more than one page (50 a page)
        in_q2 = i % 4 != 0
        cm = f.countermeasure(
            f"Control {i:02d}", deployed_on=date(2020, 11, 1) if in_q2 else date(2020, 8, 1)
        )
        if in_q2:
            names[cm.id] = cm.title
    planned = f.countermeasure("Planned for Q2", target_quarter_start=date(2020, 10, 1))
    db.session.commit()
    client = client_as(Role.VIEWER)
    for sort in ("-deployed", "title", "-id"):
        args = {"status": "DEPLOYED", "quarter": "FY20-21 Q2", "sort": sort}
        assert len(agree(client, api_get, "/countermeasures", args, 50, names)) == 60
    # The quarter filter counts a plan in its target quarter, as on the page.
    body = api_get("/api/v1/countermeasures?quarter=FY20-21 Q2&status=planned").json
    assert [item["id"] for item in body["items"]] == [planned.id]


def test_systems_api_lists_what_the_page_lists(client_as, api_get):
    names = {}
    for i in range(28):  # one holder each: single points of failure
        system = f.system(f"Service {i:02d}", criticality=Criticality.HIGH, team=f"Ops {i % 3}")
        f.responsibility(f.staff(f"Holder {i:02d}"), system)
        names[system.id] = system.name
    covered = f.system("Covered", criticality=Criticality.HIGH)
    f.responsibility(f.staff("One"), covered)
    f.responsibility(f.staff("Two"), covered)
    f.responsibility(f.staff("Alone"), f.system("Low one", criticality=Criticality.LOW))
    f.system("Retired", criticality=Criticality.HIGH, retired_on=date(2020, 1, 1))
    db.session.commit()
    client = client_as(Role.VIEWER)
    for sort in ("-name", "people", "team", "-criticality"):
        args = {"state": "spof", "criticality": "HIGH", "date": "2021-01-15", "sort": sort}
        assert len(agree(client, api_get, "/systems", args, 25, names)) == 28


def test_staff_api_lists_what_the_page_lists(client_as, api_get):
    names = {}
    for i in range(27):
        person = f.staff(f"Gone {i:02d}", left_on=date(2020, 12, 31 - i), team=f"Ops {i % 2}")
        names[person.id] = person.name
    person = f.staff("Gone early", left_on=date(2020, 6, 1))
    names[person.id] = person.name
    f.staff("Still here")
    db.session.commit()
    client = client_as(Role.VIEWER)
    for sort in ("-left", "team", "-name"):
        args = {"status": "left", "sort": sort}
        assert len(agree(client, api_get, "/staff", args, 25, names)) == 28


def test_list_arguments_are_the_pages_and_bad_values_are_refused(api_get):
    spec = api_get("/api/v1/openapi.json").json
    expected = {
        "/api/v1/threats": {"q", "category", "status", "level", "owner", "system", "tag"}
        | {"overdue", "decision", "archived", "kind", "l", "i", "as_of", "sort", "technique"},
        "/api/v1/countermeasures": {"q", "status", "type", "owner", "threat", "quarter", "sort"}
        | {"technique", "control", "as_of"},
        "/api/v1/systems": {"q", "team", "criticality", "production", "show", "state", "date"}
        | {"sort"},
        "/api/v1/staff": {"q", "team", "status", "sole", "sort"},
    }
    for path, names in expected.items():
        params = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert set(params) == names | set(PAGING), path
    systems = {p["name"]: p for p in spec["paths"]["/api/v1/systems"]["get"]["parameters"]}
    assert systems["criticality"]["schema"]["enum"] == ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    assert "-people" in systems["sort"]["schema"]["enum"]
    # Values the page would ignore or refuse: a 422 with a message per field, never a 500.
    for url, field in [
        ("/api/v1/threats?level=extreme", "level"),
        ("/api/v1/threats?as_of=2021-02-30", "as_of"),
        ("/api/v1/threats?sort=-nonsense", "sort"),
        ("/api/v1/countermeasures?quarter=FY99 Q7", "quarter"),
        ("/api/v1/countermeasures?status=bogus", "status"),
        ("/api/v1/systems?date=2021-02-30", "date"),
        ("/api/v1/systems?criticality=extreme", "criticality"),
        ("/api/v1/staff?status=gone", "status"),
    ]:
        response = api_get(url)
        assert response.status_code == 422, url
        assert field in response.json["errors"], (url, response.json)
    # As on the page: any case for a countermeasure's status, empty values are no filter.
    assert api_get("/api/v1/countermeasures?status=Deployed&type=").status_code == 200
