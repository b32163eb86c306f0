"""The reports page, the PDF download, publishing a quarter, and the report command."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditEntry
from app.models.okrs import KeyResult, KeyResultStatus, Objective, ObjectiveNarrative
from app.models.reports import ReportPublication
from app.models.user import Role
from tests.reports.pdf_text import flat, pages_text

Q2 = "FY20-21 Q2"


@pytest.fixture(autouse=True)
def demo_today(app, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", "2021-01-15")


@pytest.fixture
def objective(users) -> Objective:
    objective = Objective(
        title="Front Line Defenses",
        statement="Our infrastructure and data are staffed, secured and provisioned.",
        fiscal_year=2020,
    )
    kr = KeyResult(code="KR1", statement="Plan a second EU data center.", goal_text="Two")
    kr.statuses.append(KeyResultStatus(quarter_start=date(2020, 10, 1), text="Shortlist ready"))
    objective.key_results.append(kr)
    objective.narratives.append(
        ObjectiveNarrative(quarter_start=date(2020, 10, 1), text="Cities shortlisted.")
    )
    db.session.add(objective)
    db.session.commit()
    return objective


def users_name(role: Role) -> str:
    from app.models.user import User
    from tests.conftest import ROLE_EMAILS

    return db.session.scalar(select(User.name).where(User.email == ROLE_EMAILS[role]))


def _publications() -> int:
    return db.session.scalar(select(func.count()).select_from(ReportPublication))


def _download(client, objective_id, quarter=Q2):
    return client.get(
        "/reports/download", query_string={"objective": objective_id, "quarter": quarter}
    )


def test_a_viewer_downloads_the_quarter_as_a_pdf_attachment(client_as, objective):
    response = _download(client_as(Role.VIEWER), objective.id)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and "front-line-defenses-FY20-21-Q2.pdf" in disposition
    text = flat(" ".join(pages_text(response.data)))
    assert "Quarterly report — FY20-21 Q2" in text
    assert "Published on draft — not published" in text
    assert "Cities shortlisted." in text
    assert "Internal — leadership" in text


def test_the_download_is_reproducible_on_the_same_day(client_as, objective):
    client = client_as(Role.VIEWER)
    assert _download(client, objective.id).data == _download(client, objective.id).data


def test_signed_out_download_goes_to_sign_in(client, objective):
    response = _download(client, objective.id)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "objective_arg, quarter, status, message",
    [
        ("999", Q2, 404, "There is no objective with id"),
        ("abc", Q2, 404, "There is no objective with id"),
        (None, "FY20-21 Q7", 400, "Unknown quarter"),
        (None, "next quarter", 400, "Unknown quarter"),
        (None, "", 400, "Choose a quarter"),
        (None, "FY20-21 Q4", 400, "has not started yet"),
        (None, "FY21-22 Q1", 400, "has not started yet"),
        (None, "FY19-20 Q4", 400, "not one of its quarters"),
    ],
)
def test_bad_download_requests_get_a_clear_page(
    client_as, objective, objective_arg, quarter, status, message
):
    response = _download(client_as(Role.VIEWER), objective_arg or objective.id, quarter)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert 'data-testid="error-page"' in response.get_data(as_text=True)


def test_reports_page_defaults_to_the_last_complete_quarter(client_as, objective):
    page = client_as(Role.VIEWER).get("/reports").get_data(as_text=True)
    assert "Front Line Defenses · FY20-21 Q2" in page
    assert "Not published" in page
    assert "publish-form" not in page  # viewers cannot publish
    assert 'action="/reports/download"' in page
    assert f'name="objective" value="{objective.id}"' in page
    assert 'name="quarter" value="FY20-21 Q2"' in page
    manager_page = client_as(Role.MANAGER).get("/reports").get_data(as_text=True)
    assert "publish-form" in manager_page


def test_reports_page_without_objectives_says_so(client_as, users):
    page = client_as(Role.VIEWER).get("/reports")
    assert page.status_code == 200
    assert "There is no objective to report on yet." in page.get_data(as_text=True)


def _publish(client, objective_id, quarter=Q2, reason=""):
    client.get("/reports")  # a session with a CSRF token (disabled under testing anyway)
    return client.post(
        "/reports/publish", data={"objective": objective_id, "quarter": quarter, "reason": reason}
    )


def test_publishing_freezes_the_download(client_as, objective):
    manager = client_as(Role.MANAGER)
    response = _publish(manager, objective.id)
    assert response.status_code == 302
    publication = db.session.scalars(select(ReportPublication)).one()
    assert publication.quarter_start == date(2020, 10, 1)
    assert publication.generated_on == date(2021, 1, 15)
    viewer = client_as(Role.VIEWER)
    published = _download(viewer, objective.id).data
    assert published == publication.pdf

    # A late correction to the register: the live report changes, the published one does not.
    narrative = db.session.scalars(select(ObjectiveNarrative)).one()
    narrative.text = "Cities shortlisted; legal review started."
    db.session.commit()
    assert _download(viewer, objective.id).data == published
    assert "legal review" not in flat(" ".join(pages_text(published)))
    cover = flat(pages_text(published)[0])
    assert f"Reviewed by {users_name(Role.MANAGER)} Published on 15 January 2021" in cover
    assert "draft — not published" not in cover
    page = viewer.get("/reports").get_data(as_text=True)
    assert "Published" in page and "as published" in page.lower()


def test_publishing_is_audited_without_the_pdf_bytes(client_as, objective, users):
    _publish(client_as(Role.MANAGER), objective.id)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "ReportPublication")
    ).one()
    assert entry.action == "create"
    assert entry.actor == users[Role.MANAGER].email
    assert "pdf" not in entry.new_values
    assert entry.new_values["quarter_start"] == "2020-10-01"


def test_republishing_needs_a_reason_and_supersedes_the_old_publication(client_as, objective):
    manager = client_as(Role.MANAGER)
    assert _publish(manager, objective.id).status_code == 302
    first = db.session.scalars(select(ReportPublication)).one()

    refused = _publish(manager, objective.id, reason="   ")
    assert refused.status_code == 400
    assert "already published: say why" in refused.get_data(as_text=True)
    assert _publications() == 1

    narrative = db.session.scalars(select(ObjectiveNarrative)).one()
    narrative.text = "Corrected narrative."
    db.session.commit()
    assert _publish(manager, objective.id, reason="Narrative corrected").status_code == 302
    assert _publications() == 2
    first, second = db.session.scalars(select(ReportPublication).order_by(ReportPublication.id))
    assert first.superseded_by_id == second.id
    assert second.supersedes_id == first.id and second.reason == "Narrative corrected"
    assert first.pdf != second.pdf  # the old document is kept as it was
    downloaded = _download(client_as(Role.VIEWER), objective.id).data
    assert downloaded == second.pdf
    page = manager.get("/reports").get_data(as_text=True)
    assert "superseded by #" in page and "Narrative corrected" in page


@pytest.mark.parametrize(
    "role, quarter, status, message",
    [
        (Role.VIEWER, Q2, 403, None),
        (Role.SECURITY, Q2, 403, None),
        (Role.MANAGER, "FY20-21 Q3", 400, "can be published once it is over"),
        (Role.MANAGER, "FY20-21 Q9", 400, "Unknown quarter"),
        (Role.MANAGER, "FY19-20 Q4", 400, "not one of its quarters"),
    ],
)
def test_publishing_refusals_write_nothing(client_as, objective, role, quarter, status, message):
    response = _publish(client_as(role), objective.id, quarter=quarter)
    assert response.status_code == status
    if message:
        assert message in response.get_data(as_text=True)
    assert _publications() == 0


def test_an_overlong_reason_is_refused(client_as, objective):
    manager = client_as(Role.MANAGER)
    response = _publish(manager, objective.id, reason="x" * 2001)
    assert response.status_code == 400
    assert _publications() == 0


def test_admin_sets_the_marking_printed_on_the_report(client_as, objective):
    admin = client_as(Role.ADMIN)
    assert admin.post("/reports/settings", data={"marking": "   "}).status_code == 200
    assert admin.post("/reports/settings", data={"marking": "Board only"}).status_code == 302
    text = flat(" ".join(pages_text(_download(admin, objective.id).data)))
    assert "Board only" in text and "Internal — leadership" not in text
    assert client_as(Role.MANAGER).get("/reports/settings").status_code == 403


def test_report_command_writes_the_same_document(runner, client_as, objective, tmp_path):
    output = tmp_path / "report.pdf"
    result = runner.invoke(
        args=["report", "--objective", "Front Line Defenses", "--quarter", Q2, "--output", output]
    )
    assert result.exit_code == 0, result.output
    assert "built from the live register" in result.output
    assert output.read_bytes() == _download(client_as(Role.VIEWER), objective.id).data


@pytest.mark.parametrize(
    "args, message",
    [
        (["--objective", "Nope", "--quarter", Q2], 'There is no objective "Nope"'),
        (["--quarter", "FY21-22 Q1"], "has not started yet"),
        (["--quarter", "Q2"], "Unknown quarter"),
    ],
)
def test_report_command_bad_input(runner, objective, tmp_path, args, message):
    output = tmp_path / "report.pdf"
    result = runner.invoke(args=["report", *args, "--output", output])
    assert result.exit_code != 0
    assert message in result.output
    assert not output.exists()
