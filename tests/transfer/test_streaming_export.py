"""Exports stream plain rows: related columns gathered in SQL, a fixed number of queries."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import event

from app.extensions import db
from app.models.user import Role
from app.threats.risk import rescore_threat
from app.transfer.service import export_text
from tests.api import factories as f


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_threat_export_names_its_countermeasures_ids_and_titles_in_the_same_order(users):
    t1, t2 = f.threat("Phishing"), f.threat("Ransomware")
    f.threat("Lonely")
    mfa = f.countermeasure("MFA", threats=[t1])
    backups = f.countermeasure("Backups", deployed_on=date(2020, 9, 1), threats=[t1, t2])
    db.session.commit()
    rows = {r["Title"]: r for r in rows_of(export_text("threats"))}
    assert rows["Phishing"]["Countermeasure ids"] == f"{backups.id}; {mfa.id}"
    assert rows["Phishing"]["Countermeasures"] == "Backups; MFA"
    assert rows["Ransomware"]["Countermeasure ids"] == str(backups.id)
    assert rows["Lonely"]["Countermeasure ids"] == rows["Lonely"]["Countermeasures"] == ""


def test_related_names_come_sorted_from_the_database(users):
    t = f.threat("Phishing", owner=users[Role.SECURITY])
    t.systems = [f.system("Zulu"), f.system("Alpha"), f.system("Mike")]
    t.tags = [f.tag("web"), f.tag("api")]
    db.session.commit()
    (row,) = rows_of(export_text("threats"))
    assert row["Systems"] == "Alpha; Mike; Zulu"
    assert row["Tags"] == "api; web"
    assert row["Owner email"] == users[Role.SECURITY].email
    assert row["Inherent likelihood"] == "4" and row["Identified on"] == "2020-08-01"
    assert row["Status"] == "Identified"


def test_score_history_export_lists_every_change_oldest_first(users, client_as):
    t = f.threat("Phishing", inherent=(4, 4), residual=(3, 3))
    db.session.flush()
    rescore_threat(
        t,
        inherent=(4, 4),
        residual=(2, 2),
        changed_on=date(2020, 10, 1),
        author_id=users[Role.SECURITY].id,
        note="MFA deployed",
    )
    gone = f.threat("Old", archived_at=None)
    db.session.commit()
    response = client_as(Role.VIEWER).get(f"/export/threat-scores.csv?threat={t.id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = rows_of(response.text)
    assert [(r["Assessed on"], r["Superseded on"], r["Residual score"]) for r in rows] == [
        ("2020-08-01", "2020-10-01", "9"),
        ("2020-10-01", "", "4"),
    ]
    assert rows[1]["Author email"] == users[Role.SECURITY].email
    assert rows[1]["Note"] == "MFA deployed" and rows[1]["Threat id"] == str(t.id)
    every = rows_of(client_as(Role.VIEWER).get("/export/threat-scores.csv").text)
    assert {r["Threat"] for r in every} == {"Phishing", "Old"}
    assert gone.id in {int(r["Threat id"]) for r in every}


def _queries_for(app, entity: str) -> int:
    seen = []

    def count(*args, **kwargs):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        export_text(entity)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_export_query_count_does_not_grow_with_rows(app, users):
    for entity in ("threats", "countermeasures", "responsibilities", "threat-scores"):
        assert _queries_for(app, entity) <= 2
    person = f.staff("Ada")
    for i in range(30):
        t = f.threat(f"Threat {i}", owner=users[Role.SECURITY])
        t.systems = [f.system(f"System {i}")]
        f.countermeasure(f"Fix {i}", threats=[t], owner=users[Role.SECURITY])
        f.responsibility(person, t.systems[0])
    db.session.commit()
    for entity in ("threats", "countermeasures", "responsibilities", "threat-scores", "systems"):
        assert _queries_for(app, entity) <= 2, entity


def test_export_is_streamed(client_as):
    f.threat("Phishing")
    db.session.commit()
    response = client_as(Role.VIEWER).get("/export/threats.csv")
    # Sent as it is written: no length known in advance.
    assert "Content-Length" not in response.headers
    assert "Phishing" in response.text
