from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.countermeasures import Countermeasure
from app.models.setting import Setting
from app.models.threats import Threat, ThreatCategory, ThreatScoreChange
from app.models.user import Role
from app.threats import service
from app.threats.risk import RISK_MATRIX_KEY
from bench.harness import count_queries


def _count(model=Threat) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _titles(html: str) -> list[str]:
    return re.findall(r'href="/threats/\d+">([^<]+)</a>', html)


def _form(register, **overrides) -> dict:
    data = {
        "title": "Crafted threat",
        "description": "Typed in a form.",
        "category_id": str(register.categories["DDoS"].id),
        "source": "internal",
        "owner_id": str(register.users[Role.SECURITY].id),
        "status": "identified",
        "identified_on": "2020-08-01",
        "system_ids": [str(s.id) for s in register.systems.values()][:2],
        "tags": "edge",
        "inherent_likelihood": "4",
        "inherent_impact": "4",
        "residual_likelihood": "3",
        "residual_impact": "3",
        "treatment": "",
    }
    data.update(overrides)
    return data


def test_security_logs_a_threat_through_the_form(client_as, register):
    response = client_as(Role.SECURITY).post("/threats/new", data=_form(register))
    assert response.status_code == 302
    threat = db.session.scalar(select(Threat))
    assert response.headers["Location"] == f"/threats/{threat.id}"
    assert len(threat.systems) == 2 and threat.residual_score == 9
    assert threat.score_changes[0].changed_on == date(2020, 8, 1)


@pytest.mark.parametrize("value", ["0", "6", "high", "", "1e1"])
def test_crafted_likelihood_is_refused_with_a_message(client_as, register, value):
    data = _form(register, inherent_likelihood=value)
    response = client_as(Role.SECURITY).post("/threats/new", data=data)
    assert response.status_code == 200
    assert "Inherent likelihood must be a whole number from 1 to 5." in response.text
    assert _count() == 0 and _count(ThreatScoreChange) == 0


def test_acceptance_without_rationale_is_refused(client_as, register, users):
    data = _form(
        register,
        treatment="accept",
        acceptance_approver_id=str(users[Role.MANAGER].id),
        acceptance_expires_on="2021-06-30",
    )
    response = client_as(Role.SECURITY).post("/threats/new", data=data)
    assert "Explain why the risk is accepted." in response.text
    assert _count() == 0


def test_review_date_before_identified_date_is_refused(client_as, register):
    data = _form(register, next_review_on="2020-07-01")
    response = client_as(Role.SECURITY).post("/threats/new", data=data)
    assert "The next review cannot be before the identified date." in response.text
    assert _count() == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("identified_on", "0001-01-01"),
        ("next_review_on", "9999-12-31"),
        ("scored_on", "0202-08-01"),
    ],
)
def test_dates_outside_the_calendar_are_refused(client_as, register, field, value):
    response = client_as(Role.SECURITY).post("/threats/new", data=_form(register, **{field: value}))
    assert response.status_code == 200
    assert f"{value} is out of range: give a date from 1900 to 2999." in response.text
    assert f'data-field-error="{field}"' in response.text
    assert _count() == 0 and _count(ThreatScoreChange) == 0


def test_one_megabyte_description_is_refused(client_as, register):
    data = _form(register, description="A" * 1_048_576)
    response = client_as(Role.SECURITY).post("/threats/new", data=data)
    assert response.status_code == 200
    assert "The description is too long: at most 20,000 characters." in response.text
    assert _count() == 0


def test_crafted_unknown_status_is_refused(client_as, register):
    response = client_as(Role.SECURITY).post("/threats/new", data=_form(register, status="pwned"))
    assert "Not a valid choice" in response.text
    assert _count() == 0


def test_search_with_sql_and_html_metacharacters(client_as, register):
    register.threat(title="O'Brien <script>alert(1)</script> 100% _under_ scan")
    register.threat(title="Plain DDoS", description="nothing special")
    client = client_as(Role.VIEWER)
    for query in ["' OR 1=1 --", "%", "_", "'; DROP TABLE threats; --", '"><img src=x>']:
        response = client.get("/threats", query_string={"q": query})
        assert response.status_code == 200, query
        assert _titles(response.text) == [], query
        assert "<img src=x>" not in response.text
    response = client.get("/threats", query_string={"q": "<script>alert(1)</script>"})
    assert len(_titles(response.text)) == 1
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert len(_titles(client.get("/threats?q=100%25").text)) == 1
    assert len(_titles(client.get("/threats?q=o%27brien").text)) == 1
    assert _count() == 2


def test_search_is_word_prefix_over_title_and_description(client_as, register):
    register.threat(title="Loss of the EU data center", description="Fire at the site")
    register.threat(title="DDoS on edge caching", description="Floods against caches")
    client = client_as(Role.VIEWER)
    assert _titles(client.get("/threats?q=cach").text) == ["DDoS on edge caching"]
    assert _titles(client.get("/threats?q=FIRE+loss").text) == ["Loss of the EU data center"]
    assert _titles(client.get("/threats?q=fire+caches").text) == []


def test_filters_sorting_and_pagination_keep_the_query_string(client_as, register, users):
    for n in range(30):
        register.threat(
            title=f"Threat {n:02d}",
            residual_likelihood=1 + n % 3,
            owner_id=users[Role.ADMIN if n % 2 else Role.SECURITY].id,
            tags=["even"] if n % 2 == 0 else [],
        )
    client = client_as(Role.VIEWER)
    first = client.get("/threats?sort=title")
    assert _titles(first.text)[:2] == ["Threat 00", "Threat 01"]
    assert "30 in all" in first.text
    assert "sort=title&amp;page=2" in first.text or "page=2&amp;sort=title" in first.text
    second = client.get("/threats?sort=title&page=2")
    assert _titles(second.text) == [f"Threat {n}" for n in range(25, 30)]
    assert _titles(client.get("/threats?sort=-title").text)[0] == "Threat 29"
    admin_id = users[Role.ADMIN].id
    assert len(_titles(client.get(f"/threats?owner={admin_id}").text)) == 15
    assert len(_titles(client.get("/threats?tag=even").text)) == 15
    # residual 3x3=9 (medium) for n%3==2, 2x3=6 medium, 1x3=3 low
    assert len(_titles(client.get("/threats?level=low").text)) == 10
    assert len(_titles(client.get("/threats?level=critical").text)) == 0
    system_id = register.systems["Edge caching (ATS/Varnish)"].id
    assert "30 in all" in client.get(f"/threats?system={system_id}").text
    for key in service_sort_keys():
        for sort in (key, f"-{key}"):
            assert client.get(f"/threats?sort={sort}").status_code == 200
    assert client.get("/threats?sort=nonsense&level=bogus&page=x&owner=abc").status_code == 200


def service_sort_keys():
    from app.threats.queries import SORTS

    return list(SORTS)


def test_overdue_and_expired_acceptance_filters(client_as, register, users):
    register.threat(title="Late", next_review_on=date(2021, 1, 1))
    register.threat(title="Fine", next_review_on=date(2021, 2, 1))
    register.threat(
        title="Expired acceptance",
        next_review_on=date(2021, 6, 1),
        treatment="accept",
        treatment_rationale="ok for now",
        acceptance_approver_id=users[Role.MANAGER].id,
        acceptance_expires_on=date(2021, 1, 10),
    )
    client = client_as(Role.VIEWER)
    assert _titles(client.get("/threats?overdue=1").text) == ["Late"]
    response = client.get("/threats?decision=1")
    assert _titles(response.text) == ["Expired acceptance"]
    assert "needs a decision" in response.text
    reviews = client.get("/threats/reviews").text
    assert "Late" in reviews and "Expired acceptance" in reviews and "Fine" not in reviews


def test_list_query_count_does_not_grow_with_rows(app, client_as, register):
    client = client_as(Role.VIEWER)
    register.threat(title="Only one")
    with count_queries(app) as few:
        client.get("/threats")
    for n in range(40):
        register.threat(title=f"More {n}", tags=[f"t{n}"])
    with count_queries(app) as many:
        client.get("/threats")
    assert many["n"] == few["n"]


def test_top_n_panel(client_as, register):
    register.threat(title="Top one", residual_likelihood=4, residual_impact=4)
    register.threat(title="Second", residual_likelihood=3, residual_impact=4)
    register.threat(title="Third")
    response = client_as(Role.VIEWER).get("/threats?top=2")
    panel = response.text.split('data-testid="top-threats"')[1].split("</section>")[0]
    assert _titles(panel) == ["Top one", "Second"]


def test_heatmap_as_of_quarter_end_and_cell_links(client_as, register):
    threat = register.threat()  # residual (3, 3) from 2020-07-15
    service.update_threat(
        threat, residual_likelihood=2, scored_on=date(2020, 11, 1), author_id=None
    )
    db.session.commit()
    client = client_as(Role.VIEWER)
    q1 = client.get("/heatmap?kind=residual&quarter=FY20-21 Q1").text
    assert 'data-cell="3-3" data-count="1"' in q1
    assert "/threats?kind=residual&amp;l=3&amp;i=3&amp;as_of=2020-09-30" in q1
    today = client.get("/heatmap").text
    assert 'data-cell="2-3" data-count="1"' in today and 'data-cell="3-3" data-count="0"' in today
    assert 'data-cell="4-4" data-count="1"' in client.get("/heatmap?kind=inherent").text
    cell = client.get("/threats?kind=residual&l=3&i=3&as_of=2020-09-30")
    assert _titles(cell.text) == ["DDoS on edge caching"]
    assert _titles(client.get("/threats?kind=residual&l=3&i=3").text) == []
    assert client.get("/heatmap?quarter=FY20-21 Q9").status_code == 404
    assert client.get("/heatmap?quarter=FY20-21 Q3").status_code == 404  # not ended yet
    assert client.get("/heatmap?kind=sideways").status_code == 404


def test_threat_page_shows_history_systems_countermeasures_and_audit(client_as, register):
    threat = register.threat(description="<b>bold</b> claim")
    service.update_threat(
        threat, residual_impact=2, scored_on=date(2020, 10, 1), score_note="WAF", author_id=None
    )
    countermeasure = Countermeasure(title="Edge rate limiting")
    countermeasure.threats.append(threat)
    db.session.add(countermeasure)
    db.session.commit()
    page = client_as(Role.VIEWER).get(f"/threats/{threat.id}").text
    history = page.split('data-testid="score-history"')[1].split("</table>")[0]
    assert history.index("2020-10-01") < history.index("2020-07-15")
    assert "WAF" in history
    assert "Edge caching (ATS/Varnish)" in page
    assert "Edge rate limiting" in page
    audit = page.split('data-testid="threat-audit"')[1].split("</ol>")[0]
    assert audit.count("<li") == 2 and "changed" in audit and "created" in audit
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert client_as(Role.VIEWER).get("/threats/9999").status_code == 404


def test_edit_with_a_stale_version_shows_a_conflict_and_writes_nothing(client_as, register):
    threat = register.threat()
    stale = threat.version
    service.update_threat(threat, title="Saved first", author_id=None)
    db.session.commit()
    data = _form(register, title="Saved second", version=str(stale))
    response = client_as(Role.SECURITY).post(f"/threats/{threat.id}/edit", data=data)
    assert response.status_code == 409
    assert "Someone else changed this threat since you opened it" in response.text
    assert db.session.get(Threat, threat.id).title == "Saved first"


def test_edit_rescores_and_records_history(client_as, register):
    threat = register.threat()
    data = _form(
        register,
        title=threat.title,
        identified_on=threat.identified_on.isoformat(),
        residual_likelihood="4",
        residual_impact="4",
        scored_on="2021-01-10",
        score_note="New exploit kit",
        version=str(threat.version),
    )
    response = client_as(Role.SECURITY).post(f"/threats/{threat.id}/edit", data=data)
    assert response.status_code == 302
    db.session.refresh(threat)
    assert threat.residual_score == 16
    assert [c.residual_score for c in threat.score_changes] == [9, 16]


def test_archive_restore_purge_by_role(client_as, register):
    threat = register.threat()
    security = client_as(Role.SECURITY)
    assert security.post(f"/threats/{threat.id}/archive").status_code == 302
    assert _titles(security.get("/threats").text) == []
    assert _titles(security.get("/threats?archived=1").text) == [threat.title]
    assert security.post(f"/threats/{threat.id}/purge").status_code == 403
    assert client_as(Role.VIEWER).post(f"/threats/{threat.id}/restore").status_code == 403
    assert security.post(f"/threats/{threat.id}/restore").status_code == 302
    assert _titles(security.get("/threats").text) == [threat.title]
    admin = client_as(Role.ADMIN)
    confirmed = {"reason": "Logged twice", "confirm": "y"}
    response = admin.post(f"/threats/{threat.id}/purge", data=confirmed)
    assert response.status_code == 422
    assert "Archive the threat before purging it." in response.text
    admin.post(f"/threats/{threat.id}/archive")
    admin.post(f"/threats/{threat.id}/purge", data=confirmed)
    assert _count() == 0


def test_readers_read_and_cannot_write(client_as, register):
    viewer = client_as(Role.VIEWER)
    for url in ("/threats", "/heatmap", "/threats/reviews"):
        assert viewer.get(url).status_code == 200
    assert viewer.get("/threats/new").status_code == 403
    assert viewer.post("/threats/new", data=_form(register)).status_code == 403
    assert client_as(Role.SECURITY).get("/threats/categories").status_code == 403
    assert client_as(Role.SECURITY).get("/threats/settings").status_code == 403
    assert _count() == 0


def test_admin_manages_categories(client_as, register):
    admin = client_as(Role.ADMIN)
    assert admin.post("/threats/categories", data={"name": "Supply chain"}).status_code == 302
    response = admin.post("/threats/categories", data={"name": "ddos"})
    assert "A category named ddos already exists." in response.text
    category = register.categories["Insider"]
    admin.post(f"/threats/categories/{category.id}", data={"action": "rename", "name": "Insiders"})
    admin.post(f"/threats/categories/{category.id}", data={"action": "retire"})
    db.session.refresh(category)
    assert (category.name, category.active) == ("Insiders", False)
    assert _count(ThreatCategory) == 4
    form = client_as(Role.SECURITY).get("/threats/new").text
    assert "Insiders" not in form and "Supply chain" in form


def test_admin_risk_settings_validated(client_as, register):
    admin = client_as(Role.ADMIN)
    page = admin.get("/threats/settings").text
    assert "Almost certain" in page
    data = {
        "likelihood_labels": "Rare\nUnlikely\nPossible\nLikely\nAlmost certain",
        "impact_labels": "Negligible\nMinor\nModerate\nMajor\nSevere",
        "threshold_medium": "12",
        "threshold_high": "10",
        "threshold_critical": "20",
        "interval_low": "365",
        "interval_medium": "180",
        "interval_high": "90",
        "interval_critical": "30",
    }
    response = admin.post("/threats/settings", data=data)
    assert "Threshold scores must strictly increase" in response.text
    assert db.session.get(Setting, RISK_MATRIX_KEY) is None
    response = admin.post("/threats/settings", data=dict(data, interval_low="0"))
    assert "From 1 to 3650 days." in response.text
    data.update(threshold_medium="6", threshold_high="12", threshold_critical="20")
    assert admin.post("/threats/settings", data=data).status_code == 302
    stored = db.session.get(Setting, RISK_MATRIX_KEY).value
    assert stored["thresholds"] == [["low", 1], ["medium", 6], ["high", 12], ["critical", 20]]
