"""OKR pages as each role sees them; writing statuses through the form."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.domain.quarters import Quarter
from app.extensions import db
from app.models.okrs import KeyResult, KeyResultStatus, Objective, Rating
from app.models.user import Role
from app.okrs import service
from app.okrs.figures import kr_table
from tests.okrs.helpers import FakeFigures, read_kr_tables


@pytest.fixture
def today(app, monkeypatch):
    monkeypatch.setitem(app.config, "FRONTLINE_TODAY", "2021-01-15")


@pytest.fixture
def figures(app, monkeypatch, today) -> FakeFigures:
    fake = FakeFigures(
        spof_staff={date(2020, 7, 1): 8, date(2020, 9, 30): 8, date(2020, 12, 31): 7},
        filled={date(2020, 12, 31): 1, date(2021, 1, 15): 1},
        hiring=4,
        deployed={1: 1, 2: 3},
    )
    return fake.give_to(app, monkeypatch)


@pytest.fixture
def objective(today, users) -> Objective:
    created = service.create_objective(
        title="Front Line Defenses",
        statement="Staffed, secured and provisioned.",
        fiscal_year=2020,
        department="Technology",
        target_completion="Q1 FY21-22",
    )
    kr1 = service.create_key_result(
        created,
        code="KR1",
        statement="Plan a second EU data center.",
        baseline_text="one EU data center",
        goal_text="Two EU data centers",
    )
    service.create_key_result(
        created,
        code="KR2",
        statement="Fewer SPOFs.",
        baseline_text="0 SPoF positions filled",
        baseline_value=0,
        goal_text="Hire for 4 SPoF positions",
        goal_value=4,
        goal_unit="positions",
        metric="spof_positions_filled",
    )
    service.create_key_result(
        created,
        code="KR3",
        statement="Countermeasures.",
        goal_text="6 deployed",
        goal_value=6,
        metric="countermeasures_deployed_to_date",
    )
    service.write_status(
        kr1,
        quarter="FY20-21 Q1",
        text="1 EU data center",
        rating=Rating.ON_TRACK,
        author_id=users[Role.MANAGER].id,
    )
    service.set_narrative(created, "FY20-21 Q2", "Shortlist of cities prepared.")
    db.session.commit()
    return created


def statuses() -> int:
    return db.session.scalar(select(func.count()).select_from(KeyResultStatus))


def test_index_shows_the_decks_layout_with_register_values(client_as, objective, figures):
    response = client_as(Role.VIEWER).get("/okrs?year=FY20-21")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert (
        '<th scope="col" class="okr-kr">Key Results</th>' in html
        and ">Goal</th>" in html
        and all(f">Q{n} Status</th>" in html for n in range(1, 5))
    )
    table = read_kr_tables(html)["Front Line Defenses"]
    assert (
        table["KR1"]["kr"]["deck"]
        == "KR1: Plan a second EU data center. Baseline: one EU data center"
    )
    assert table["KR1"]["q1"]["deck"] == "1 EU data center"
    assert "On track" in table["KR1"]["q1"]["all"]
    assert [table["KR1"][f"q{n}"]["deck"] for n in (2, 3, 4)] == ["-", "-", "-"]
    assert table["KR2"]["q2"]["register"] == (
        "register: 1 of 4 positions filled · 7 solely responsible staff"
    )
    assert table["KR2"]["q3"]["register"] == (
        "register on 2021-01-15: 1 of 4 positions filled · 8 solely responsible staff"
    )
    assert table["KR2"]["q4"]["register"] == ""  # not started
    assert "8 solely responsible staff" in table["KR2"]["kr"]["baseline"]
    assert table["KR3"]["q2"]["register"] == "register: 4 countermeasures deployed to date"
    assert "4 of 6" in table["KR3"]["goal"]["all"]  # progress toward the goal
    assert "Shortlist of cities prepared." in html  # the quarter's narrative


def test_index_defaults_to_the_current_fiscal_year_and_refuses_a_bad_one(client_as, objective):
    client = client_as(Role.VIEWER)
    html = client.get("/okrs").get_data(as_text=True)
    assert "Objectives and key results, FY20-21" in html and "Front Line Defenses" in html
    empty = client.get("/okrs?year=FY21-22").get_data(as_text=True)
    assert 'data-testid="no-objectives"' in empty
    bad = client.get("/okrs?year=2020-21")
    assert bad.status_code == 400
    assert "Unknown fiscal year" in bad.get_data(as_text=True)


def test_the_page_holds_without_the_register_areas(client_as, objective, today):
    html = client_as(Role.VIEWER).get("/okrs?year=FY20-21").get_data(as_text=True)
    table = read_kr_tables(html)["Front Line Defenses"]
    assert table["KR1"]["q1"]["deck"] == "1 EU data center"


def test_kr_page_prefills_the_proposal_for_the_last_complete_quarter(client_as, objective, figures):
    kr2 = objective.key_results[1]
    html = client_as(Role.MANAGER).get(f"/key-results/{kr2.id}").get_data(as_text=True)
    assert "Write the status for FY20-21 Q2" in html
    assert "25% filled, 4 SPOF positions in active hiring</textarea>" in html
    assert 'value="1"' in html  # the register's value, prefilled
    viewer = client_as(Role.VIEWER).get(f"/key-results/{kr2.id}").get_data(as_text=True)
    assert "Save status" not in viewer and "SPOF positions filled" in viewer


def test_a_manager_writes_a_status_through_the_form(client_as, objective, figures, users):
    kr2 = objective.key_results[1]
    response = client_as(Role.MANAGER).post(
        f"/key-results/{kr2.id}/status",
        data={"quarter": "FY20-21 Q2", "text": "25% filled", "value": "1", "rating": "at_risk"},
    )
    assert response.status_code == 302
    status = db.session.scalars(
        select(KeyResultStatus).where(KeyResultStatus.key_result_id == kr2.id)
    ).one()
    assert (status.text, status.value, status.rating) == ("25% filled", 1.0, Rating.AT_RISK)
    assert status.author_id == users[Role.MANAGER].id
    page = client_as(Role.VIEWER).get(f"/key-results/{kr2.id}").get_data(as_text=True)
    assert "Test manager" in page and "written · FY20-21 Q2" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"quarter": "FY21-22 Q1", "text": "x", "value": "1"}, "quarter", "outside this objective"),
        ({"quarter": "FY20-21 Q2", "text": "x", "value": "a few"}, "value", "is not a number"),
    ],
)
def test_bad_status_input_shows_beside_the_field_and_writes_nothing(
    client_as, objective, figures, data, field, message
):
    kr2 = objective.key_results[1]
    before = statuses()
    response = client_as(Role.MANAGER).post(f"/key-results/{kr2.id}/status", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'data-field-error="{field}"' in html and message in html
    assert statuses() == before


def test_a_key_result_with_an_unknown_metric_is_refused_in_the_form(client_as, objective):
    before = db.session.scalar(select(func.count()).select_from(KeyResult))
    response = client_as(Role.MANAGER).post(
        f"/okrs/{objective.id}/key-results/new",
        data={"code": "KR4", "statement": "More.", "metric": "made_up"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-field-error="metric"' in html and "no register metric called" in html
    assert db.session.scalar(select(func.count()).select_from(KeyResult)) == before


def test_objective_pages_create_edit_and_narrate(client_as, objective):
    client = client_as(Role.ADMIN)
    response = client.post(
        "/okrs/new", data={"title": "Production Quality", "fiscal_year": "FY20-21", "position": "5"}
    )
    assert response.status_code == 302
    created = db.session.scalars(
        select(Objective).where(Objective.title == "Production Quality")
    ).one()
    response = client.post(
        f"/okrs/{created.id}/edit",
        data={"title": "Production Quality", "fiscal_year": "FY20-21", "statement": "Code health."},
    )
    assert response.status_code == 302
    response = client.post(
        f"/okrs/{created.id}/narrative", data={"quarter": "FY20-21 Q2", "text": "GitLab done."}
    )
    assert response.status_code == 302
    page = client.get(f"/okrs/{created.id}").get_data(as_text=True)
    assert "Code health." in page and "GitLab done." in page
    bad = client.post(f"/okrs/{created.id}/narrative", data={"quarter": "FY19-20 Q1", "text": "x"})
    assert bad.status_code == 422 and "outside this objective" in bad.get_data(as_text=True)


def test_viewers_read_but_do_not_write(client_as, objective):
    client = client_as(Role.VIEWER)
    kr1 = objective.key_results[0]
    assert client.get(f"/okrs/{objective.id}").status_code == 200
    assert client.get(f"/key-results/{kr1.id}").status_code == 200
    assert (
        client.post(
            f"/key-results/{kr1.id}/status", data={"quarter": "FY20-21 Q2", "text": "x"}
        ).status_code
        == 403
    )
    assert client.get("/okrs/new").status_code == 403
    assert client.get("/okrs/999").status_code == 404


def test_kr_table_is_plain_data(objective, figures):
    rows = kr_table(objective, 2020)
    assert [row.code for row in rows] == ["KR1", "KR2", "KR3"]
    kr2 = rows[1]
    assert [cell.status_text for cell in kr2.quarters] == ["-", "-", "-", "-"]
    assert [cell.computed for cell in kr2.quarters] == [0, 1, 1, None]
    assert kr2.quarters[1].proposed == "25% filled, 4 SPOF positions in active hiring"
    assert kr2.quarters[0].quarter == Quarter(2020, 1)
    assert kr2.progress == 25 and kr2.baseline_computed == 0
    assert rows[0].quarters[0].rating == Rating.ON_TRACK and rows[0].quarters[0].computed is None


def _objectives(n: int, author_id: int) -> None:
    for i in range(n):
        created = service.create_objective(title=f"Objective {i}", fiscal_year=2020, position=i)
        for code in ("KR1", "KR2", "KR3"):
            kr = service.create_key_result(created, code=code, statement="s", goal_text="g")
            service.write_status(kr, quarter="FY20-21 Q1", text="t", author_id=author_id)
        service.set_narrative(created, "FY20-21 Q1", "n")
    db.session.commit()


def test_the_year_page_query_count_does_not_grow_with_objectives(app, client_as, users, today):
    from bench.harness import count_queries

    client = client_as(Role.VIEWER)
    _objectives(2, users[Role.MANAGER].id)
    with count_queries(app) as few:
        assert client.get("/okrs?year=FY20-21").status_code == 200
    _objectives(8, users[Role.MANAGER].id)
    with count_queries(app) as many:
        assert client.get("/okrs?year=FY20-21").status_code == 200
    assert many["n"] == few["n"], (few, many)


def test_changing_the_quarter_loads_its_status_and_never_saves_the_other_ones_text(
    client_as, objective, figures
):
    kr2 = objective.key_results[1]
    client = client_as(Role.MANAGER)
    client.post(
        f"/key-results/{kr2.id}/status",
        data={"quarter": "FY20-21 Q1", "loaded_quarter": "FY20-21 Q1", "text": "Q1 words"},
    )
    page = client.get(f"/key-results/{kr2.id}?quarter=FY20-21 Q1").get_data(as_text=True)
    assert 'data-reload-param="quarter"' in page and "Q1 words</textarea>" in page
    before = statuses()
    # Without a script: the select moved to Q2 but the text is still Q1's. Nothing is saved;
    # the page comes back with Q2's own status (none yet: the register's proposal).
    response = client.post(
        f"/key-results/{kr2.id}/status",
        data={"quarter": "FY20-21 Q2", "loaded_quarter": "FY20-21 Q1", "text": "Q1 words"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert statuses() == before
    assert "Nothing was saved: the form now shows FY20-21 Q2" in html
    assert 'name="loaded_quarter" type="hidden" value="FY20-21 Q2"' in html
    assert "Q1 words</textarea>" not in html
    # "Show this quarter" does the same without a warning.
    shown = client.post(
        f"/key-results/{kr2.id}/status",
        data={"quarter": "FY20-21 Q1", "loaded_quarter": "FY20-21 Q2", "load": "y", "text": ""},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Q1 words</textarea>" in shown and "Nothing was saved" not in shown


def test_the_key_result_form_sets_the_baseline_quarter_checked_and_audited(client_as, objective):
    from app.models.audit import AuditEntry

    kr3 = next(kr for kr in objective.key_results if kr.code == "KR3")
    client = client_as(Role.MANAGER)
    page = client.get(f"/key-results/{kr3.id}/edit").get_data(as_text=True)
    assert 'name="baseline_quarter"' in page
    assert 'value="FY20-21 Q1"' in page and 'value="FY20-21 Q4"' not in page
    fields = {
        "code": "KR3",
        "statement": "Countermeasures.",
        "goal_text": "6 deployed",
        "goal_value": "6",
        "goal_direction": "increase",
        "metric": "countermeasures_deployed_to_date",
    }
    for bad, message in (
        ("FY19-20 Q2", "outside this objective"),
        ("FY20-21 Q4", "last quarter"),
        ("next year", "FY"),
    ):
        response = client.post(
            f"/key-results/{kr3.id}/edit", data={**fields, "baseline_quarter": bad}
        )
        html = response.get_data(as_text=True)
        assert 'data-field-error="baseline_quarter"' in html and message in html, bad
        db.session.expire_all()
        assert db.session.get(KeyResult, kr3.id).baseline_quarter_start is None
    saved = client.post(
        f"/key-results/{kr3.id}/edit", data={**fields, "baseline_quarter": "FY20-21 Q1"}
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(KeyResult, kr3.id).baseline_quarter_start == date(2020, 7, 1)
    entry = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "KeyResult", AuditEntry.entity_id == str(kr3.id))
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None and entry.action == "update"
    assert entry.old_values["baseline_quarter_start"] is None
    assert entry.new_values["baseline_quarter_start"] == "2020-07-01"
    page = client.get(f"/key-results/{kr3.id}/edit").get_data(as_text=True)
    assert '<option selected value="FY20-21 Q1">' in page or 'value="FY20-21 Q1" selected' in page
    # Back to the fiscal year's start.
    assert (
        client.post(
            f"/key-results/{kr3.id}/edit", data={**fields, "baseline_quarter": ""}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(KeyResult, kr3.id).baseline_quarter_start is None
