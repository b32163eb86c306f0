"""Scoring a threat with CVSS, OWASP or DREAD: forms, API, CSV, settings and history."""

# The API tests' fixtures are used here by name.
# ruff: noqa: F811

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select

from app.domain.scoring_methods import DREAD_FACTORS, OWASP_FACTORS
from app.extensions import db
from app.models.audit import AuditEntry
from app.models.setting import Setting
from app.models.threats import Threat, ThreatScoreChange
from app.models.user import Role
from app.threats import figures
from app.threats import service as threats_service
from app.threats import settings as threats_settings
from app.threats.as_of import top_threats_as_of
from app.threats.risk import SCORING_METHODS_KEY
from app.transfer.service import ImportRefusedError, export_text, import_file
from app.validation import InputError
from tests.api.conftest import token_of  # noqa: F401 - fixture

CVSS_31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # base 9.8
CVSS_40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 9.3
BAD = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q"
DREAD = {
    "damage": 8,
    "reproducibility": 6,
    "exploitability": 7,
    "affected_users": 9,
    "discoverability": 4,
}


def _count(model=Threat) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _scored(register, method: str, inputs, **overrides) -> dict:
    values = register.values(scoring_method=method, scoring_inputs=inputs, **overrides)
    del values["inherent_likelihood"], values["inherent_impact"]
    return values


def _form(register, **overrides) -> dict:
    data = {
        "title": "Crafted threat",
        "source": "internal",
        "owner_id": str(register.users[Role.SECURITY].id),
        "status": "identified",
        "identified_on": "2020-08-01",
        "inherent_likelihood": "1",
        "inherent_impact": "1",
        "residual_likelihood": "3",
        "residual_impact": "3",
        "treatment": "",
        "scoring_method": "cvss",
        "cvss_vector": CVSS_31,
    }
    data.update(overrides)
    return data


# ---- the service


def test_a_cvss_31_vector_gives_the_cell_and_its_base_score_is_in_the_history(register):
    threat = threats_service.create_threat(author_id=None, **_scored(register, "cvss", CVSS_31))
    db.session.commit()
    assert (threat.inherent_likelihood, threat.inherent_impact, threat.inherent_score) == (5, 5, 25)
    assert (threat.residual_likelihood, threat.residual_impact) == (3, 3)
    change = threat.score_changes[0]
    assert (change.scoring_method, change.scoring_inputs) == ("cvss", CVSS_31)
    assert change.method_score == 9.8 and change.method_rating == "Critical"
    assert "exploitability 3.9 → likelihood 5" in change.method_explanation
    # The audit log keeps the method as it keeps every score change.
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.entity_type == "ThreatScoreChange")
    )
    assert entry.new_values["scoring_inputs"] == CVSS_31 and entry.new_values["method_score"] == 9.8


def test_a_cvss_40_vector_and_dread_factors(register):
    cvss4 = threats_service.create_threat(author_id=None, **_scored(register, "cvss", CVSS_40))
    dread = threats_service.create_threat(
        author_id=None, **_scored(register, "dread", DREAD, title="Dread")
    )
    db.session.commit()
    assert (cvss4.inherent_likelihood, cvss4.inherent_impact, cvss4.method_score) == (5, 5, 9.3)
    assert (dread.inherent_likelihood, dread.inherent_impact, dread.method_score) == (3, 5, 6.8)


def test_a_given_inherent_cell_must_agree_with_the_method(register):
    values = register.values(scoring_method="cvss", scoring_inputs=CVSS_31)  # says 4 x 4
    with pytest.raises(InputError) as refused:
        threats_service.create_threat(author_id=None, **values)
    assert "comes from the CVSS inputs: 5, not 4" in refused.value.errors["inherent_likelihood"]
    db.session.rollback()
    assert _count() == 0


def test_a_residual_change_keeps_the_method_and_a_switch_to_the_matrix_is_recorded(register):
    threat = threats_service.create_threat(author_id=None, **_scored(register, "cvss", CVSS_31))
    db.session.commit()
    threats_service.update_threat(
        threat, residual_impact=2, scored_on=date(2020, 9, 1), author_id=None
    )
    threats_service.update_threat(
        threat, scoring_method="matrix", inherent_likelihood=5, inherent_impact=5, author_id=None
    )
    db.session.commit()
    methods = [(c.scoring_method, c.method_score) for c in threat.score_changes]
    assert methods == [("cvss", 9.8), ("cvss", 9.8), ("matrix", None)]
    assert threat.scoring_method == "matrix" and threat.inherent_score == 25


def test_new_cut_points_change_new_assessments_only(client_as, register):
    old = threats_service.create_threat(author_id=None, **_scored(register, "cvss", CVSS_31))
    matrix_threat = register.threat(title="On the matrix")
    db.session.commit()
    day = date(2020, 12, 31)
    heat, top = figures.heatmap_as_of(day, "inherent"), top_threats_as_of(day, 5)

    response = client_as(Role.ADMIN).post(
        "/threats/settings/scoring",
        data={"cvss_likelihood": "1, 2, 3, 3.9", "cvss_impact": "2, 4, 5, 6"},
    )
    assert response.status_code == 302
    assert db.session.get(Setting, SCORING_METHODS_KEY).value["cvss"]["impact"] == [
        "2",
        "4",
        "5",
        "6",
    ]
    assert db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_type == "Setting")
    )
    # A new assessment with the same vector reads the new cuts: 3.9 -> 5, 5.9 -> 4.
    today = date(2021, 1, 15)
    new = threats_service.create_threat(
        author_id=None, **_scored(register, "cvss", CVSS_31, title="New", identified_on=today)
    )
    db.session.commit()
    assert (new.inherent_likelihood, new.inherent_impact) == (5, 4)
    # The earlier threat, its history and the figures as of before are unchanged, even
    # when the threat is edited without a new vector.
    threats_service.update_threat(old, title="Renamed", author_id=None)
    db.session.commit()
    assert (old.inherent_likelihood, old.inherent_impact) == (5, 5)
    assert len(old.score_changes) == 1 and old.score_changes[0].inherent_score == 25
    assert figures.heatmap_as_of(day, "inherent") == heat
    ranked = [(t.id, t.inherent_score, t.residual_score) for t in top_threats_as_of(day, 5)]
    assert ranked == [(t.id, t.inherent_score, t.residual_score) for t in top]
    assert matrix_threat.inherent_score == 16


def test_bad_cut_points_are_refused_beside_the_field(client_as, register):
    response = client_as(Role.ADMIN).post(
        "/threats/settings/scoring", data={"owasp_likelihood": "1, 5, 3, 8"}
    )
    assert response.status_code == 200
    assert 'data-field-error="owasp_likelihood"' in response.text
    assert "must increase" in response.text
    assert db.session.get(Setting, SCORING_METHODS_KEY) is None
    assert client_as(Role.SECURITY).get("/threats/settings/scoring").status_code == 403


def test_matrix_threats_keep_their_heat_map_and_ranking(register):
    for n in range(3):
        register.threat(title=f"Matrix {n}", inherent_likelihood=4 - n, residual_likelihood=3 - n)
    day = date(2021, 1, 15)
    heat, top = figures.heatmap_as_of(day, "residual"), top_threats_as_of(day, 3)
    threats_settings.save_method_bands({"dread_likelihood": "1, 2, 3, 4", "dread_impact": ""})
    db.session.commit()
    assert figures.heatmap_as_of(day, "residual") == heat
    assert [t.id for t in top_threats_as_of(day, 3)] == [t.id for t in top]
    # A method-scored threat lands in its worked-out cell beside them.
    threats_service.create_threat(
        author_id=None, **_scored(register, "dread", DREAD, title="Dread")
    )
    db.session.commit()
    assert figures.heatmap_as_of(day, "inherent")[(5, 5)] == 1  # likelihood 5.67 >= 4


# ---- the form


def test_the_form_scores_with_a_vector_and_the_page_shows_it(client_as, register):
    client = client_as(Role.SECURITY)
    response = client.post("/threats/new", data=_form(register))
    assert response.status_code == 302, response.text
    threat = db.session.scalar(select(Threat))
    assert (threat.inherent_likelihood, threat.inherent_impact) == (5, 5)
    page = client.get(f"/threats/{threat.id}").text
    history = page.split('data-testid="score-history"')[1].split("</table>")[0]
    assert "CVSS</span> 9.8 (Critical)" in history and CVSS_31 in history


def test_work_out_the_cell_saves_nothing(client_as, register):
    data = _form(register, derive="Work out the cell", title="")
    response = client_as(Role.SECURITY).post("/threats/new", data=data)
    assert response.status_code == 200
    assert "exploitability 3.9 → likelihood 5" in response.text
    assert _count() == 0


@pytest.mark.parametrize("derive", [None, "Work out the cell"])
def test_a_bad_vector_is_refused_beside_its_field(client_as, register, derive):
    data = _form(register, cvss_vector=BAD)
    if derive:
        data["derive"] = derive
    response = client_as(Role.SECURITY).post("/threats/new", data=data)
    assert response.status_code == 200
    error = response.text.split('data-field-error="cvss_vector"')[1].split("</div>")[0]
    assert "Not a valid CVSS vector" in error
    assert _count() == 0 and _count(ThreatScoreChange) == 0


def test_owasp_factors_on_the_form(client_as, register):
    data = _form(register, scoring_method="owasp", cvss_vector="")
    data.update({f"owasp_{name}": "9" for name in OWASP_FACTORS})
    data["owasp_motive"] = ""
    client = client_as(Role.SECURITY)
    refused = client.post("/threats/new", data=data)
    assert 'data-field-error="owasp_motive"' in refused.text and _count() == 0
    data["owasp_motive"] = "9"
    assert client.post("/threats/new", data=data).status_code == 302
    threat = db.session.scalar(select(Threat))
    assert (threat.inherent_score, threat.method_rating) == (25, "Critical")
    # The edit form shows the factors back.
    edit = client.get(f"/threats/{threat.id}/edit").text
    motive = (
        edit.split('id="owasp_motive"')[0].rsplit("<input", 1)[1]
        + edit.split('id="owasp_motive"')[1].split(">")[0]
    )
    assert 'value="9"' in motive


def test_dread_on_the_edit_form_records_a_new_assessment(client_as, register):
    threat = register.threat()
    data = _form(
        register,
        title=threat.title,
        identified_on=threat.identified_on.isoformat(),
        scoring_method="dread",
        cvss_vector="",
        version=str(threat.version),
        scored_on="2021-01-10",
    )
    data.update({f"dread_{name}": str(value) for name, value in DREAD.items()})
    response = client_as(Role.SECURITY).post(f"/threats/{threat.id}/edit", data=data)
    assert response.status_code == 302, response.text
    db.session.refresh(threat)
    assert [c.scoring_method for c in threat.score_changes] == ["matrix", "dread"]
    assert (threat.inherent_likelihood, threat.inherent_impact) == (3, 5)
    assert set(DREAD) == set(DREAD_FACTORS)


# ---- the API


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _json(register, method, inputs, **overrides) -> dict:
    values = _scored(register, method, inputs, **overrides)
    values["identified_on"] = str(values["identified_on"])
    return values


def test_the_api_takes_and_answers_the_method(client, token_of, register):
    auth = _bearer(token_of(Role.SECURITY))
    created = client.post("/api/v1/threats", headers=auth, json=_json(register, "dread", DREAD))
    assert created.status_code == 201, created.json
    body = created.json
    assert body["inherent"] == {"likelihood": 3, "impact": 5, "score": 15}
    assert body["scoring_method"] == "dread" and body["scoring_inputs"] == DREAD
    assert body["score_history"][0]["method_score"] == 6.8
    changed = client.patch(
        f"/api/v1/threats/{body['id']}",
        headers=auth,
        json={"version": body["version"], "scoring_method": "cvss", "scoring_inputs": CVSS_40},
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["method_score"] == 9.3 and changed.json["inherent"]["score"] == 25
    listed = client.get("/api/v1/threats", headers=auth).json["items"][0]
    assert listed["scoring_inputs"] == CVSS_40 and listed["method_rating"] == "Critical"
    doc = client.get("/api/v1/openapi.json", headers=auth).json
    create = doc["components"]["schemas"]["ThreatCreate"]["properties"]
    assert "scoring_method" in create and "scoring_inputs" in create


def test_the_api_refuses_a_bad_vector_with_422_and_writes_nothing(client, token_of, register):
    auth = _bearer(token_of(Role.SECURITY))
    response = client.post("/api/v1/threats", headers=auth, json=_json(register, "cvss", BAD))
    assert response.status_code == 422
    assert "Not a valid CVSS vector" in str(response.json)
    assert _count() == 0 and _count(ThreatScoreChange) == 0


# ---- CSV


THREATS_HEADER = (
    "Title,Description,Category,Source,Feed,Owner email,Status,Treatment,Treatment rationale,"
    "Identified on,Next review on,Inherent likelihood,Inherent impact,Residual likelihood,"
    "Residual impact,Systems,Tags,Acceptance approver email,Acceptance expires on,"
    "Scoring method,Scoring inputs"
)


def _row(title: str, cells: str, method: str = ",") -> str:
    """A threats file row: title, then "L,I,RL,RI" and "method,inputs"."""
    return f"{title},,,internal,,,identified,,,2020-08-01,,{cells},,,,,{method}\n"


def test_threats_csv_imports_and_exports_the_method(users):
    data = (
        f"{THREATS_HEADER}\n"
        + _row("Edge flood", ",,3,3", f"cvss,{CVSS_31}")
        + _row("Matrix one", "2,2,1,1")
    ).encode()
    assert import_file("threats", data, users[Role.SECURITY].id) == 2
    db.session.commit()
    flood = db.session.scalar(select(Threat).where(Threat.title == "Edge flood"))
    assert (flood.inherent_likelihood, flood.inherent_impact, flood.method_score) == (5, 5, 9.8)
    assert flood.score_changes[0].scoring_inputs == CVSS_31
    exported = export_text("threats")
    assert f"cvss,{CVSS_31},9.8,Critical" in exported
    history = export_text("threat-scores")
    assert f"cvss,{CVSS_31},9.8,Critical" in history and "matrix,,," in history


def test_a_bad_vector_in_the_csv_names_line_and_column_and_writes_nothing(users):
    data = (
        f"{THREATS_HEADER}\n"
        + _row("Fine", "2,2,1,1")
        + _row("Broken", ",,1,1", f"cvss,{BAD}")
        + _row("Disagrees", "4,4,1,1", f"cvss,{CVSS_31}")
    ).encode()
    with pytest.raises(ImportRefusedError) as refused:
        import_file("threats", data, None)
    db.session.rollback()
    assert sorted((e.line, e.column) for e in refused.value.errors) == [
        (3, "Scoring inputs"),
        (4, "Inherent impact"),
        (4, "Inherent likelihood"),
    ]
    assert _count() == 0


def test_the_history_file_keeps_recorded_cells_and_refuses_bad_vectors(register, users):
    threat = register.threat()
    header = (
        "Threat,Assessed on,Inherent likelihood,Inherent impact,Residual likelihood,"
        "Residual impact,Note,Scoring method,Scoring inputs"
    )
    bad = f"{header}\n{threat.title},2020-09-01,,,3,3,,cvss,{BAD}\n".encode()
    with pytest.raises(ImportRefusedError) as refused:
        import_file("threat-scores", bad, None)
    db.session.rollback()
    assert [(e.line, e.column) for e in refused.value.errors] == [(2, "Scoring inputs")]
    assert _count(ThreatScoreChange) == 1
    good = (
        f"{header}\n"
        f"{threat.title},2020-09-01,,,3,3,Derived,cvss,{CVSS_31}\n"
        f"{threat.title},2020-10-01,4,4,3,3,As recorded,cvss,{CVSS_31}\n"
    ).encode()
    assert import_file("threat-scores", good, None) == 2
    db.session.commit()
    rows = [(c.inherent_score, c.scoring_method, c.method_score) for c in threat.score_changes]
    assert rows == [(16, "matrix", None), (25, "cvss", 9.8), (16, "cvss", 9.8)]
    assert threat.score_changes[2].method_explanation.startswith("Imported as 4 × 4")


def test_threats_export_imports_back_with_methods_and_inputs(register, users):
    owasp = dict.fromkeys(OWASP_FACTORS, 4)
    threats_service.create_threat(
        author_id=None, **_scored(register, "owasp", owasp, title="Owasp")
    )
    threats_service.create_threat(
        author_id=None, **_scored(register, "cvss", CVSS_40, title="Cvss")
    )
    register.threat(title="Matrix")
    db.session.commit()
    before = {
        t.title: (t.inherent_score, t.scoring_method, t.scoring_inputs, t.method_score)
        for t in db.session.scalars(select(Threat))
    }
    exported = export_text("threats")
    for model in (ThreatScoreChange, Threat):
        db.session.execute(sa_delete(model))
    db.session.commit()
    assert import_file("threats", exported.encode(), users[Role.SECURITY].id) == 3
    db.session.commit()
    after = {
        t.title: (t.inherent_score, t.scoring_method, t.scoring_inputs, t.method_score)
        for t in db.session.scalars(select(Threat))
    }
    assert after == before and after["Owasp"][:2] == (9, "owasp")
