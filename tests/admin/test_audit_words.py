"""Audit trails say names, labels and dates, never the ids the log stores."""

from __future__ import annotations

import html as html_module
import re
from datetime import date

from sqlalchemy import func, select

from app.admin.audit_words import kind_label, readable_entries
from app.extensions import db
from app.models.audit import AuditEntry
from app.models.systems import System
from app.models.threats import Tag, Threat, ThreatCategory
from app.models.user import Role
from tests.conftest import sign_in

# An id said as an id: "#12", "owner_id", "staff 3", "KR 1", or a reference field whose value
# is a bare number.
ID_WORDS = re.compile(r"#\d|\w_id\b|\b(?:staff|system|threat|KR|countermeasure|objective) \d")
REFERENCE_COLLECTIONS = {"systems", "tags", "threats"}


def _id_problems(readable) -> list[str]:
    problems = []
    for r in readable:
        texts = [r.what] + [f"{c.field}: {c.old} -> {c.new}" for c in r.changes]
        for text in texts:
            if ID_WORDS.search(text):
                problems.append(f"{r.kind}: {text}")
        for c in r.changes:
            if c.key.endswith("_id") or c.key in REFERENCE_COLLECTIONS:
                for value in (c.old, c.new):
                    if value is not None and re.fullmatch(r"[\d, ]+", value):
                        problems.append(f"{r.kind}: {c.field} said as {value}")
    return problems


def test_no_audit_line_of_the_demo_says_an_id(app, demo):
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert len(entries) > 300
    readable = readable_entries(entries)
    assert not _id_problems(readable), "\n".join(_id_problems(readable)[:20])
    # The log itself still keeps the ids (they are what it stores).
    assert any("owner_id" in (e.new_values or {}) for e in entries)


def test_the_audit_page_of_the_demo_shows_no_id(app, demo):
    client = app.test_client()
    sign_in(client, "admin@frontline.example")
    total = db.session.scalar(select(func.count()).select_from(AuditEntry))
    seen = 0
    page = 1
    while seen < total:
        html = client.get(f"/admin/audit?page={page}").get_data(as_text=True)
        body = html[html.index("<tbody>") : html.index("</tbody>")]
        seen += body.count("<tr>")
        text = html_module.unescape(re.sub(r"<[^>]+>", " ", body))
        assert not ID_WORDS.search(text), ID_WORDS.search(text).group(0)
        assert "KeyResultStatus" not in text
        page += 1
    assert seen == total


def test_references_are_named_and_deleted_ones_said_as_such(app, users):
    category = ThreatCategory(name="Availability")
    gone = ThreatCategory(name="Temporary")
    system = System(name="DNS", in_production=True)
    db.session.add_all([category, gone, system])
    db.session.flush()
    threat = Threat(
        title="Resolver outage",
        identified_on=date(2021, 1, 4),
        category=gone,
        owner=users[Role.SECURITY],
        systems=[system],
        tags=[Tag(name="dns")],
    )
    db.session.add(threat)
    db.session.commit()
    assert threat.category_id == gone.id  # loaded, as a view loads the record it edits
    threat.category_id = category.id
    db.session.commit()
    db.session.delete(gone)
    db.session.commit()
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "Threat").order_by(AuditEntry.id)
    ).all()
    created, changed = readable_entries(entries)
    said = {c.field: c.new for c in created.changes}
    assert said["Owner"] == "Test security"
    assert said["Systems"] == "DNS" and said["Tags"] == "dns"
    assert said["Category"] == "a deleted threat category"
    assert created.what == "Resolver outage"
    (change,) = changed.changes
    assert (change.field, change.old, change.new) == (
        "Category",
        "a deleted threat category",
        "Availability",
    )


def test_entity_kinds_are_words_that_can_wrap():
    assert kind_label("KeyResultStatus") == "Key result status"
    assert kind_label("Threat") == "Threat"


def test_the_threat_page_trail_names_the_owner(app, users, client_as):
    threat = Threat(
        title="Stolen laptop", owner=users[Role.SECURITY], identified_on=date(2021, 1, 4)
    )
    db.session.add(threat)
    db.session.commit()
    html = client_as(Role.VIEWER).get(f"/threats/{threat.id}").get_data(as_text=True)
    trail = html[html.index('data-testid="threat-audit"') :]
    assert "Test security" in trail and "owner_id" not in trail
