"""The full-register appendix: exactly the threats in force at the quarter end, in residual
order, on landscape pages, streamed in blocks."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

import pypdf
import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain.quarters import parse_quarter
from app.extensions import db
from app.models.okrs import Objective
from app.models.threats import Threat, ThreatStatus
from app.models.user import Role
from app.reports import appendix as appendix_module
from app.reports.appendix import register_rows
from app.reports.service import report_document
from app.seed import load_demo
from app.threats.risk import risk_matrix
from tests.reports.pdf_text import flat

for _area in ("okrs", "threats", "countermeasures", "coverage"):
    pytest.importorskip(f"app.{_area}.figures")

TODAY = date(2021, 1, 15)
Q2 = parse_quarter("FY20-21 Q2")


@pytest.fixture
def demo(app, users, monkeypatch):
    load_demo()
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", TODAY.isoformat())
    return monkeypatch


def _expected(as_of: date) -> list[tuple[int, int, int]]:
    """(id, residual, inherent) of every open threat on the register on ``as_of``, replayed
    from each threat's score history, in the register's ranking order."""
    day_after = datetime.combine(as_of + timedelta(days=1), time(), UTC)
    found = []
    threats = db.session.scalars(select(Threat).options(selectinload(Threat.score_changes)))
    for threat in threats:
        archived = threat.archived_at
        if archived is not None and archived.tzinfo is None:
            archived = archived.replace(tzinfo=UTC)
        if threat.identified_on > as_of or (archived is not None and archived < day_after):
            continue
        if threat.status == ThreatStatus.CLOSED:
            continue
        changes = [c for c in threat.score_changes if c.changed_on <= as_of]
        if not changes:
            continue
        last = max(changes, key=lambda c: (c.changed_on, c.id))
        found.append((threat.id, last.residual_score, last.inherent_score, threat.identified_on))
    found.sort(key=lambda t: (-t[1], -t[2], t[3], t[0]))
    return [t[:3] for t in found]


def test_the_rows_are_exactly_the_threats_in_force_at_the_quarter_end_in_residual_order(demo):
    rows = [row for part in register_rows(Q2.last_day, risk_matrix()) for row in part]
    expected = _expected(Q2.last_day)
    assert len(rows) == len(expected) > 0
    assert [int(row[0]) for row in rows] == [t[0] for t in expected]
    assert [int(row[5].split()[0]) for row in rows] == [t[1] for t in expected]
    # An earlier quarter end holds a different register (threats identified since are out).
    assert len(_expected(parse_quarter("FY20-21 Q1").last_day)) != len(expected)


def _objective() -> Objective:
    return db.session.scalar(
        select(Objective).where(
            Objective.title == "Front Line Defenses", Objective.fiscal_year == 2020
        )
    )


def test_the_appendix_pages_are_landscape_and_list_every_row_in_order(demo):
    # Small partitions and blocks: the streaming path runs over several of each.
    demo.setattr(appendix_module, "PARTITION", 10)
    demo.setattr(appendix_module, "BLOCK", 4)
    pdf = report_document(_objective(), Q2, TODAY, "register").pdf
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    start = next(
        i
        for i, page in enumerate(reader.pages)
        if "Appendix — the full register" in page.extract_text()
    )
    assert all(p.mediabox.width < p.mediabox.height for p in reader.pages[:start])
    appendix_pages = reader.pages[start:]
    assert all(p.mediabox.width > p.mediabox.height for p in appendix_pages)
    text = flat(" ".join(p.extract_text() for p in appendix_pages))
    assert f"{len(_expected(Q2.last_day))} open threats in the register on 31 December 2020" in text
    titles = dict(db.session.execute(select(Threat.id, Threat.title)).all())
    position = 0
    for threat_id, _, _ in _expected(Q2.last_day):
        found = text.find(flat(titles[threat_id]), position)
        assert found >= 0, titles[threat_id]
        position = found
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Appendix — the full register on 31 December 2020" in outline
    nested = [i.title for item in reader.outline if isinstance(item, list) for i in item]
    assert "Residual High" in nested and "Residual Medium" in nested
    total = len(reader.pages)
    assert f"Page {total} of {total}" in flat(reader.pages[-1].extract_text())


def test_download_and_command_offer_the_appendix(demo, client_as, runner):
    viewer = client_as(Role.VIEWER)
    objective = _objective()
    query = {"objective": objective.id, "quarter": Q2.label}
    plain = viewer.get("/reports/download", query_string=query)
    assert plain.status_code == 200
    page = viewer.get("/reports", query_string=query).get_data(as_text=True)
    assert 'name="appendix" value="register"' in page
    with_register = viewer.get("/reports/download", query_string={**query, "appendix": "register"})
    assert with_register.status_code == 200
    assert len(pypdf.PdfReader(io.BytesIO(with_register.data)).pages) > len(
        pypdf.PdfReader(io.BytesIO(plain.data)).pages
    )
    bad = viewer.get("/reports/download", query_string={**query, "appendix": "everything"})
    assert bad.status_code == 400
    assert "Unknown appendix" in bad.get_data(as_text=True)
    result = runner.invoke(
        args=["report", "--quarter", Q2.label, "--appendix", "register", "--output", "/dev/null"]
    )
    assert result.exit_code == 0, result.output


def test_a_published_quarter_refuses_an_appendix_it_was_not_frozen_with(demo, client_as):
    manager = client_as(Role.MANAGER)
    objective = _objective()
    assert (
        manager.post(
            "/reports/publish", data={"objective": objective.id, "quarter": Q2.label}
        ).status_code
        == 302
    )
    response = manager.get(
        "/reports/download",
        query_string={"objective": objective.id, "quarter": Q2.label, "appendix": "register"},
    )
    assert response.status_code == 400
    assert "published without the register appendix" in response.get_data(as_text=True)


def test_the_same_register_and_date_give_the_same_bytes_with_the_appendix(demo):
    first = report_document(_objective(), Q2, TODAY, "register").pdf
    assert report_document(_objective(), Q2, TODAY, "register").pdf == first


def test_a_published_quarters_appendix_is_the_register_as_published(demo, client_as):
    """Publishing freezes the document with the appendix; a change made afterwards (a
    threat renamed, a late entry dated inside the quarter) changes the live register's
    appendix, never the published one."""
    from app.models.reports import ReportPublication
    from app.reports.appendix import register_appendix
    from app.reports.pdf import build_report_pdf
    from app.reports.quarter_report import gather_quarter_report

    manager = client_as(Role.MANAGER)
    objective = _objective()
    query = {"objective": objective.id, "quarter": Q2.label}
    published = manager.post("/reports/publish", data={**query, "with_appendix": "y", "reason": ""})
    assert published.status_code == 302
    page = manager.get("/reports", query_string=query).get_data(as_text=True)
    assert 'name="appendix" value="register"' in page and "as frozen with the publication" in page
    first = manager.get("/reports/download", query_string={**query, "appendix": "register"})
    assert first.status_code == 200
    stored = db.session.scalar(select(ReportPublication.appendix_pdf))
    assert first.data == stored
    before = flat("".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(stored)).pages))
    assert "Appendix" in before and "Renamed after publication" not in before

    top = _expected(Q2.last_day)[0][0]
    db.session.get(Threat, top).title = "Renamed after publication"
    db.session.commit()

    again = manager.get("/reports/download", query_string={**query, "appendix": "register"})
    assert again.status_code == 200 and again.data == first.data
    live = build_report_pdf(
        gather_quarter_report(objective, Q2, TODAY),
        TODAY,
        "Internal",
        appendix=register_appendix(Q2.last_day),
    )
    text = flat("".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(live)).pages))
    assert "Renamed after publication" in text  # the live register did change
