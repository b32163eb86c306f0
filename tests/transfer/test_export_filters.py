"""The export writes what a list page shows: the same filters and order, every page."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date

import pytest

from app.domain.scoring import Level
from app.extensions import db
from app.models import Criticality, ThreatCategory
from app.models.user import Role
from app.threats.risk import risk_matrix
from tests.api import factories as f

TODAY = date(2021, 1, 15)


@pytest.fixture(autouse=True)
def pinned_today(app):
    previous = app.config.get("FRONTLINE_TODAY")
    app.config["FRONTLINE_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config["FRONTLINE_TODAY"] = previous


def listed(client, path: str, detail: str, args: dict) -> list[str]:
    """The ids a list page shows, page after page, in its order."""
    ids: list[str] = []
    for page in range(1, 20):
        text = client.get(path, query_string={**args, "page": page}).text
        found = list(dict.fromkeys(re.findall(rf'href="{detail}/(\d+)"', text)))
        if not found:
            return ids
        ids += found
    raise AssertionError("too many pages")


def export_link(client, path: str, args: dict) -> tuple[str, str]:
    """The list page's export link (as the page renders it) and its label."""
    text = client.get(path, query_string=args).text
    href, label = re.search(
        r'href="([^"]+)" data-testid="export-csv" download>([^<]+)<', text
    ).groups()
    return html.unescape(href), label


def exported(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/csv"
    return [row[0] for row in csv.reader(io.StringIO(response.text))][1:]


def same_records(client, path, detail, args, names_by_id, entity):
    ids = listed(client, path, detail, args)
    href, label = export_link(client, path, args)
    assert href.startswith(f"/export/{entity}.csv")
    assert "page=" not in href
    assert exported(client, href) == [names_by_id[int(i)] for i in ids]
    return ids, label


def test_threat_export_is_the_filtered_sorted_list(client_as):
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
    for sort in ("-identified", "category", "owner", "-residual", "title"):
        args = {"q": "data", "level": "high", "category": str(web.id), "sort": sort}
        ids, label = same_records(client, "/threats", "/threats", args, names, "threats")
        assert len(ids) == 32 and label == "Export these 32 (CSV)"
    # Sort keys only the list had (the export used to refuse them) are the list's.
    assert exported(client, "/export/threats.csv?q=data&category=99999&sort=owner") == []


def test_threat_export_refuses_and_ignores_what_the_list_does(client_as):
    f.threat("Data leak")
    f.threat("Phishing")
    db.session.commit()
    client = client_as(Role.VIEWER)
    # Ignored on the list, ignored in the export: every open threat.
    args = "level=bogus&status=nope&sort=nonsense&owner=abc&category=-1"
    assert client.get(f"/threats?{args}").status_code == 200
    assert sorted(exported(client, f"/export/threats.csv?{args}")) == ["Data leak", "Phishing"]
    # Refused on the list, refused by the export.
    assert client.get("/threats?as_of=2021-02-30").status_code == 400
    assert client.get("/export/threats.csv?as_of=2021-02-30").status_code == 400
    href, label = export_link(client, "/threats", {})
    assert href == "/export/threats.csv" and label == "Export all (CSV)"


def test_countermeasure_export_is_the_filtered_list(client_as):
    names = {}
    for i in range(55):  # more than one page (50 a page)
        in_q2 = i % 4 != 0
        cm = f.countermeasure(
            f"Control {i:02d}", deployed_on=date(2020, 11, 1) if in_q2 else date(2020, 8, 1)
        )
        if in_q2:
            names[cm.id] = cm.title
    f.countermeasure("Planned for Q2", target_quarter_start=date(2020, 10, 1))
    db.session.commit()
    client = client_as(Role.VIEWER)
    for sort in (None, "owner", "-deployed", "title"):
        args = {"status": "DEPLOYED", "quarter": "FY20-21 Q2"} | ({"sort": sort} if sort else {})
        ids, label = same_records(
            client, "/countermeasures", "/countermeasures", args, names, "countermeasures"
        )
        assert len(ids) == len(names) == 41
        assert label == "Export these 41 (CSV)"
    # An unknown status or quarter is ignored (and said so) on the list: likewise the export.
    bad = {"status": "bogus", "quarter": "FY99 Q7"}
    listed_ids = listed(client, "/countermeasures", "/countermeasures", bad)
    assert "the filter was ignored" in client.get("/countermeasures", query_string=bad).text
    assert (
        len(exported(client, "/export/countermeasures.csv?status=bogus&quarter=FY99+Q7"))
        == len(listed_ids)
        == 56
    )


def test_system_export_is_the_filtered_list(client_as):
    names = {}
    for i in range(28):  # one holder each: single points of failure
        system = f.system(f"Service {i:02d}", criticality=Criticality.HIGH, team="Ops")
        f.responsibility(f.staff(f"Holder {i:02d}"), system)
        names[system.id] = system.name
    covered = f.system("Covered", criticality=Criticality.HIGH)
    f.responsibility(f.staff("One"), covered)
    f.responsibility(f.staff("Two"), covered)
    f.responsibility(f.staff("Alone"), f.system("Low one", criticality=Criticality.LOW))
    f.system("Retired", criticality=Criticality.HIGH, retired_on=date(2020, 1, 1))
    db.session.commit()
    client = client_as(Role.VIEWER)
    for sort in (None, "-name", "people", "team", "-criticality"):
        args = {"state": "spof", "criticality": "HIGH"} | ({"sort": sort} if sort else {})
        ids, label = same_records(client, "/systems", "/systems", args, names, "systems")
        assert len(ids) == 28 and label == "Export these 28 (CSV)"
    # The default list: systems in service, the retired one left out of both.
    href, label = export_link(client, "/systems", {})
    assert label == "Export all (CSV)" and "Retired" not in exported(client, href)
    # An impossible date: 400 on the list and in the export; an unknown criticality ignored.
    assert client.get("/systems?date=2021-02-30").status_code == 400
    assert client.get("/export/systems.csv?date=2021-02-30").status_code == 400
    assert len(exported(client, "/export/systems.csv?criticality=extreme")) == 30


def test_staff_export_is_the_filtered_list(client_as):
    names = {}
    for i in range(27):
        person = f.staff(f"Gone {i:02d}", left_on=date(2020, 12, 31 - i), team="Ops")
        names[person.id] = person.name
    person = f.staff("Gone early", left_on=date(2020, 6, 1))
    names[person.id] = person.name
    f.staff("Still here")
    f.staff("Leaving later", left_on=date(2021, 3, 1))
    db.session.commit()
    client = client_as(Role.VIEWER)
    for sort in (None, "-left", "team", "-name"):
        args = {"status": "left"} | ({"sort": sort} if sort else {})
        ids, label = same_records(client, "/staff", "/staff", args, names, "staff")
        assert len(ids) == 28 and label == "Export these 28 (CSV)"
    present = exported(client, "/export/staff.csv")
    assert present == ["Leaving later", "Still here"]
    assert len(exported(client, "/export/staff.csv?status=all&sort=bogus")) == 30


def test_cli_export_takes_every_record_or_the_list_filters(runner, tmp_path):
    f.staff("Here")
    f.staff("Gone", left_on=date(2020, 1, 1))
    db.session.commit()
    target = tmp_path / "staff.csv"
    result = runner.invoke(args=["export", "staff", str(target)])
    assert result.exit_code == 0, result.output
    assert [line.split(",")[0] for line in target.read_text().splitlines()[1:]] == ["Gone", "Here"]
    result = runner.invoke(args=["export", "staff", str(target), "--filter", "status=left"])
    assert result.exit_code == 0, result.output
    assert [line.split(",")[0] for line in target.read_text().splitlines()[1:]] == ["Gone"]
    result = runner.invoke(args=["export", "systems", str(target), "--filter", "date=2021-02-30"])
    assert result.exit_code != 0
    result = runner.invoke(args=["export", "systems", str(target), "--filter", "nonsense"])
    assert result.exit_code != 0 and "key=value" in result.output
