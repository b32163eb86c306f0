"""Read endpoints: figures, filters, pagination, JSON errors, queries that do not grow."""

from __future__ import annotations

import re
from datetime import date

from app.extensions import db
from app.models import KeyResult, KeyResultStatus, Objective, Rating
from app.models.user import Role
from app.threats.risk import rescore_threat
from bench.harness import count_queries
from tests.api import factories as f


def test_threat_list_has_scores_level_systems_and_tags(api_get):
    billing = f.system("Billing")
    f.threat("Phishing", residual=(4, 4), systems=[billing], tags=[f.tag("email")])
    f.threat("Laptop theft", residual=(1, 2))
    db.session.commit()
    body = api_get("/api/v1/threats").json
    assert body["total"] == 2 and body["page"] == 1
    first = body["items"][0]
    assert first["title"] == "Phishing"
    assert first["residual"] == {"likelihood": 4, "impact": 4, "score": 16}
    assert first["level"] == "critical"
    assert first["systems"] == [{"id": billing.id, "name": "Billing"}]
    assert first["tags"] == ["email"]
    assert api_get("/api/v1/threats?q=laptop").json["total"] == 1
    assert api_get(f"/api/v1/threats?system={billing.id}").json["total"] == 1
    assert api_get("/api/v1/threats?tag=EMAIL").json["total"] == 1
    assert api_get("/api/v1/threats?per_page=1&page=2").json["items"][0]["title"] == "Laptop theft"


def test_threat_detail_has_its_score_history(api_get):
    t = f.threat("Phishing", inherent=(5, 5), residual=(4, 4))
    rescore_threat(
        t, inherent=(5, 5), residual=(2, 2), changed_on=date(2020, 11, 1), author_id=None
    )
    db.session.commit()
    body = api_get(f"/api/v1/threats/{t.id}").json
    assert [c["residual_score"] for c in body["score_history"]] == [16, 4]
    assert body["version"] >= 1


def test_errors_are_json_with_a_message_per_field(api_get, client):
    response = api_get("/api/v1/threats?per_page=1001&status=nope")
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"per_page", "status"}
    assert response.json["error"]
    missing = api_get("/api/v1/threats/999999")
    assert missing.status_code == 404 and missing.is_json and missing.json["error"]
    assert api_get("/api/v1/threats/99999999999999999999").status_code == 404
    assert api_get("/api/v1/no-such-thing").is_json
    wrong = client.delete("/api/v1/threats")
    assert wrong.status_code in (401, 405) and wrong.is_json


def test_method_not_allowed_is_json(api_get, client, token_of):
    from app.models.user import Role

    secret = token_of(Role.ADMIN)
    response = client.put("/api/v1/threats", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 405 and response.is_json


def test_coverage_as_of_a_date(api_get):
    billing, wiki, vpn = f.system("Billing"), f.system("Wiki"), f.system("VPN")
    ada, bob = f.staff("Ada"), f.staff("Bob")
    f.responsibility(ada, billing)
    f.responsibility(ada, wiki)
    f.responsibility(bob, wiki, until=date(2020, 12, 1))
    db.session.commit()
    body = api_get("/api/v1/coverage?date=2020-12-31").json
    assert body["as_of"] == "2020-12-31"
    assert body["spof_staff_count"] == 1 and body["spof_system_count"] == 2
    assert body["uncovered_systems"] == [{"id": vpn.id, "name": "VPN"}]
    earlier = api_get("/api/v1/coverage?date=2020-11-30").json
    assert earlier["spof_system_count"] == 1
    assert api_get("/api/v1/coverage?date=31/12/2020").status_code == 422


def test_quarter_figures(api_get):
    big = f.threat("Ransomware", on=date(2020, 7, 10), residual=(5, 5))
    f.threat("Phishing", on=date(2020, 7, 11), residual=(4, 4))
    f.threat("Later", on=date(2020, 11, 1), residual=(5, 5))
    f.countermeasure("Backups", deployed_on=date(2020, 8, 1), threats=[big])
    f.countermeasure("EDR", deployed_on=date(2020, 11, 15))
    f.countermeasure("MFA", deployed_on=date(2020, 12, 31))
    f.countermeasure("Planned")
    db.session.commit()
    body = api_get("/api/v1/quarters/FY20-21 Q2").json
    assert body["quarter"] == "FY20-21 Q2"
    assert (body["starts_on"], body["ends_on"]) == ("2020-10-01", "2020-12-31")
    assert body["countermeasures_deployed"] == 2
    assert body["countermeasures_deployed_to_date"] == 3
    assert [t["title"] for t in body["top_threats"]] == ["Ransomware", "Phishing"]
    assert api_get("/api/v1/quarters/Q9").status_code == 404


def test_okrs_of_a_fiscal_year_with_statuses(api_get):
    objective = Objective(title="Front Line Defenses", fiscal_year=2020)
    kr = KeyResult(code="KR3", statement="Deploy countermeasures", goal_value=6)
    kr.statuses.append(
        KeyResultStatus(quarter_start=date(2020, 10, 1), text="4 deployed", rating=Rating.ON_TRACK)
    )
    objective.key_results.append(kr)
    db.session.add_all([objective, Objective(title="Other year", fiscal_year=2019)])
    db.session.commit()
    body = api_get("/api/v1/okrs?year=FY20-21").json
    assert body["fiscal_year"] == "FY20-21"
    assert [o["title"] for o in body["objectives"]] == ["Front Line Defenses"]
    status = body["objectives"][0]["key_results"][0]["statuses"][0]
    assert status == {
        "quarter": "FY20-21 Q2",
        "text": "4 deployed",
        "value": None,
        "rating": "on_track",
        "version": 1,
    }
    assert api_get("/api/v1/okrs?year=2020").status_code == 422


def test_systems_staff_responsibilities_positions(api_get):
    billing = f.system("Billing", team="Payments")
    f.system("Wiki", team="Tools", in_production=False)
    ada = f.staff("Ada", team="Payments")
    f.responsibility(ada, billing)
    db.session.commit()
    assert api_get("/api/v1/systems?production=no").json["items"][0]["name"] == "Wiki"
    assert api_get("/api/v1/systems?team=Payments").json["total"] == 1
    assert api_get(f"/api/v1/systems/{billing.id}").json["name"] == "Billing"
    assert api_get("/api/v1/staff").json["items"][0]["name"] == "Ada"
    resp = api_get(f"/api/v1/responsibilities?system_id={billing.id}").json["items"][0]
    assert resp["staff_member"]["name"] == "Ada" and resp["system"]["name"] == "Billing"
    assert api_get("/api/v1/positions").json["total"] == 0


def _queries(app, get, url) -> int:
    with count_queries(app) as counter:
        assert get(url).status_code == 200
    return counter["n"]


def test_list_queries_do_not_grow_with_rows(app, api_get):
    made = []

    def add(n):
        for _ in range(n):
            made.append(1)
            i = len(made)
            s = f.system(f"S{i}")
            t = f.threat(f"T{i}", systems=[s], tags=[f.tag(f"tag-{s.name}")])
            f.countermeasure(f"C{i}", deployed_on=date(2020, 8, 1), threats=[t])
            f.responsibility(f.staff(f"P{i}"), s)
        db.session.commit()

    add(2)
    api_get("/api/v1/systems")  # the token's first use records last_used_at once
    urls = ["/api/v1/threats", "/api/v1/countermeasures", "/api/v1/responsibilities"]
    before = [_queries(app, api_get, u) for u in urls]
    add(10)
    after = [_queries(app, api_get, u) for u in urls]
    assert before == after


def test_threat_word_search_is_the_list_page_search(api_get, client_as):
    f.threat("Loss of the EU data center", description="Fire at the São Paulo site")
    f.threat("DDoS on edge caching", description="Floods against caches")
    f.threat("Laptop theft", description="Stolen in a café")
    db.session.commit()
    page = client_as(Role.VIEWER)
    expected = {
        "cach": ["DDoS on edge caching"],  # a word's start, not its middle
        "FIRE loss": ["Loss of the EU data center"],  # every word, description included
        "sao": ["Loss of the EU data center"],  # accents and case folded
        "cafe theft": ["Laptop theft"],
        "fire caches": [],
        "ache": [],
        "%": [],  # punctuation only: nothing, like the page
        "' OR 1=1 --": [],
    }
    for q, titles in expected.items():
        api = [t["title"] for t in api_get("/api/v1/threats", query_string={"q": q}).json["items"]]
        html = page.get("/threats", query_string={"q": q}).text
        shown = re.findall(r'href="/threats/\d+">([^<]+)</a>', html)
        assert sorted(api) == titles, q
        assert sorted(shown) == sorted(api), q
