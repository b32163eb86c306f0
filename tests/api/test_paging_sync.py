"""Paging and sync: keyset pages with next/prev links, updated_since, ETags on details."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from app.extensions import db
from app.models import System, Threat
from app.models.user import Role
from tests.api import factories as f


def walk(api_get, url: str) -> list[dict]:
    """Every item, following the next links from ``url``."""
    items, seen_urls = [], 0
    while url:
        response = api_get(url)
        assert response.status_code == 200, response.json
        body = response.json
        items += body["items"]
        url = body["next"]
        if url:
            assert f'<{url}>; rel="next"' in response.headers["Link"]
        seen_urls += 1
        assert seen_urls < 100
    return items


def test_per_page_goes_to_1000(api_get):
    for i in range(3):
        f.threat(f"Threat {i}")
    db.session.commit()
    assert api_get("/api/v1/threats?per_page=1000").json["per_page"] == 1000
    too_many = api_get("/api/v1/threats?per_page=1001")
    assert too_many.status_code == 422 and "per_page" in too_many.json["errors"]


def test_keyset_pages_walk_in_id_order_with_next_and_prev(api_get):
    threats = [f.threat(f"Threat {i:02d}") for i in range(7)]
    db.session.commit()
    ids = [t.id for t in threats]
    first = api_get("/api/v1/threats?per_page=3&after=0")
    body = first.json
    assert [t["id"] for t in body["items"]] == ids[:3]
    assert body["page"] is None and body["total"] == 7 and body["prev"] is None
    assert body["next"].startswith("/api/v1/threats?") and f"after={ids[2]}" in body["next"]
    second = api_get(body["next"]).json
    assert [t["id"] for t in second["items"]] == ids[3:6]
    assert f"before={ids[3]}" in second["prev"]
    back = api_get(second["prev"]).json
    assert [t["id"] for t in back["items"]] == ids[:3]
    assert [t["id"] for t in walk(api_get, "/api/v1/threats?per_page=3&after=0")] == ids


def test_numbered_pages_have_links_too(api_get):
    for i in range(5):
        f.threat(f"Threat {i}")
    db.session.commit()
    response = api_get("/api/v1/threats?per_page=2&page=2&sort=title")
    body = response.json
    assert "page=3" in body["next"] and "page=1" in body["prev"] and "sort=title" in body["next"]
    assert 'rel="next"' in response.headers["Link"] and 'rel="prev"' in response.headers["Link"]
    assert len(walk(api_get, "/api/v1/threats?per_page=2")) == 5


def test_a_cursor_stays_consistent_while_rows_are_inserted(api_get):
    for i in range(6):
        f.threat(f"Threat {i}")
    db.session.commit()
    url, seen, added = "/api/v1/threats?per_page=2&after=0", [], []
    while url:
        body = api_get(url).json
        seen += [t["id"] for t in body["items"]]
        if len(added) < 3:  # someone adds a threat between every page
            added.append(f.threat(f"Added {len(added)}"))
            db.session.commit()
        url = body["next"]
    assert len(seen) == len(set(seen)) == 9  # nothing twice, nothing skipped
    assert seen == sorted(seen)
    assert {t.id for t in added} <= set(seen)


def test_keyset_paging_refuses_a_page_number_or_a_sort(api_get):
    assert "page" in api_get("/api/v1/threats?after=0&page=2").json["errors"]
    assert "sort" in api_get("/api/v1/threats?after=0&sort=title").json["errors"]
    assert "before" in api_get("/api/v1/threats?after=0&before=9").json["errors"]


def test_updated_since_returns_created_changed_and_archived_and_nothing_else(
    api_get, client_as, token_of
):
    old = [f.threat(f"Old {i}") for i in range(4)]
    db.session.commit()
    synced = api_get("/api/v1/threats?per_page=1&include_archived=1").json["synced_at"]
    time.sleep(0.01)
    secret = token_of(Role.SECURITY)
    headers = {"Authorization": f"Bearer {secret}"}
    created = f.threat("New one")
    db.session.commit()
    changed = old[0]
    response = client_as(Role.SECURITY).patch(
        f"/api/v1/threats/{changed.id}",
        json={"version": changed.version, "title": "Old 0, renamed"},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    archived = old[1]
    client_as(Role.SECURITY).post(f"/api/v1/threats/{archived.id}/archive", headers=headers)
    since = urlencode({"updated_since": synced})
    url = f"/api/v1/threats?{since}&include_archived=1&after=0"
    items = walk(api_get, url)
    assert {t["id"]: t["archived"] for t in items} == {
        created.id: False,
        changed.id: False,
        archived.id: True,
    }
    # Without include_archived the archival is not a change of the register's list.
    without = walk(api_get, f"/api/v1/threats?{since}")
    assert {t["id"] for t in without} == {created.id, changed.id}
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert api_get("/api/v1/threats", query_string={"updated_since": future}).json["total"] == 0
    assert api_get("/api/v1/threats?updated_since=yesterday").status_code == 422


def test_updated_since_on_every_list(api_get):
    f.system("Billing")
    db.session.commit()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for path in (
        "threats",
        "countermeasures",
        "systems",
        "staff",
        "responsibilities",
        "positions",
    ):
        response = api_get(f"/api/v1/{path}", query_string={"updated_since": future})
        assert response.status_code == 200 and response.json["total"] == 0, path
        assert api_get(f"/api/v1/{path}?include_archived=1&after=0").status_code == 200
    retired = db.session.get(System, f.system("Old", retired_on=datetime(2020, 1, 1).date()).id)
    db.session.commit()
    names = {s["name"] for s in api_get("/api/v1/systems?include_archived=1").json["items"]}
    assert retired.name in names
    assert retired.name not in {s["name"] for s in api_get("/api/v1/systems").json["items"]}


def test_detail_reads_carry_an_etag_and_answer_304_while_unchanged(api_get, client_as, token_of):
    t = f.threat("Phishing")
    db.session.commit()
    first = api_get(f"/api/v1/threats/{t.id}")
    etag = first.headers["ETag"]
    assert etag
    again = api_get(f"/api/v1/threats/{t.id}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    threat = db.session.get(Threat, t.id)
    threat.title = "Phishing, renamed"
    db.session.commit()
    changed = api_get(f"/api/v1/threats/{t.id}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    system = f.system("Billing")
    db.session.commit()
    assert api_get(f"/api/v1/systems/{system.id}").headers.get("ETag")


def test_plain_row_items_equal_what_the_threat_schema_dumps(api_get, users):
    from app.models import ThreatCategory, ThreatFeed, Treatment
    from app.threats.api_schemas import ThreatSchema

    web = ThreatCategory(name="Web")
    feed = ThreatFeed(name="CERT")
    db.session.add_all([web, feed])
    t1 = f.threat(
        "Phishing",
        category=web,
        feed=feed,
        owner=users[Role.SECURITY],
        treatment=Treatment.ACCEPT,
        acceptance_approver_id=users[Role.MANAGER].id,
        next_review_on=datetime(2021, 3, 1).date(),
        systems=[f.system("Zulu; with a separator"), f.system("Alpha")],
        tags=[f.tag("web"), f.tag("api")],
    )
    t2 = f.threat(
        'Bare "quoted" \\ back-slashed, naïve – 東京 😀',
        description="Two\nlines\twith a tab and </script>",
        residual=(1, 1),
    )
    t3 = f.threat("Gone", archived_at=datetime(2020, 12, 1, tzinfo=UTC))
    # The scoring method's inputs: a vector as text, factors as an object.
    t1.scoring_method, t1.scoring_inputs = "cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    t1.method_score, t1.method_rating = 9.8, "Critical"
    t2.scoring_method, t2.scoring_inputs = "dread", '{"damage": 7, "reproducibility": 5}'
    t2.method_score = 6.0
    db.session.commit()
    body = api_get("/api/v1/threats?include_archived=1&per_page=1000&after=0").json
    with_schema = {t.id: ThreatSchema().dump(db.session.get(Threat, t.id)) for t in (t1, t2, t3)}
    assert {item["id"]: item for item in body["items"]} == with_schema
    assert body["items"][0]["systems"][0]["name"] == "Alpha"


def test_far_off_instants_are_refused_not_a_server_error(api_get):
    for since in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"):
        response = api_get("/api/v1/threats", query_string={"updated_since": since})
        assert response.status_code == 422 and "updated_since" in response.json["errors"]
