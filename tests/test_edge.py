"""The edge of the app: caching headers, control characters, out-of-range ids, long text.

The walks go over ``app.url_map`` as the access test does, so a new route or form is
covered without being listed here.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import String, Text, func, or_, select
from wtforms.fields.core import UnboundField

from app.auth.tokens import create_token
from app.extensions import db
from app.forms import FlaskForm
from app.models.countermeasures import Countermeasure, CountermeasureStatus
from app.models.okrs import KeyResult, KeyResultStatus
from app.models.systems import System
from app.models.user import Role
from app.seed import load_demo

NUL = "x\x00y"
ID_ROUTE = re.compile(r"<int:([^>]+)>")
# Actions without a text field that would archive, purge or sign out what later requests use.
ACTIONS_WITHOUT_TEXT = {
    "auth.logout",
    "auth.sign_out_everywhere",
    "admin.unlock_user",
    "admin.revoke_token",
    "auth.revoke_api_token",
    "admin.deactivate_user",
    "threats.archive",
    "threats.restore",
    "feeds.dismiss",
}
# Every form page the app has: each must refuse a NUL beside a field with a 4xx.
FORM_ENDPOINTS = {
    "auth.change_password",
    "auth.tokens",
    "threats.edit_category",
    "admin.new_user",
    "admin.edit_user",
    "threats.new",
    "threats.edit",
    "threats.categories",
    "threats.risk_settings",
    "countermeasures.new",
    "countermeasures.edit",
    "countermeasures.deploy",
    "countermeasures.verify",
    "countermeasures.status",
    "countermeasures.settings",
    "coverage.new_system",
    "coverage.edit_system",
    "coverage.new_staff",
    "coverage.edit_staff",
    "coverage.new_responsibility",
    "coverage.edit_responsibility",
    "coverage.new_position",
    "coverage.edit_position",
    "coverage.change_status",
    "coverage.set_goal",
    "okrs.new_objective",
    "okrs.edit_objective",
    "okrs.new_key_result",
    "okrs.edit_key_result",
    "okrs.save_narrative",
    "okrs.write_status",
    "feeds.create",
    "feeds.accept",
    "reports.settings",
    "reports.publish",
    "threats.purge",
    "threats.delete_assessment",
    "threats.delete_state_entry",
    "coverage.delete_responsibility",
}


@pytest.fixture
def demo(users):
    load_demo()
    return users


def _sample_path(rule, ids: str = "1") -> str:
    path = rule.rule
    for converter in re.findall(r"<([^>]+)>", path):
        name = converter.split(":")[-1]
        if converter.startswith("int:"):
            value = ids
        elif name == "entity":
            value = "threats"
        elif name == "label":
            value = "FY20-21 Q2"
        else:
            value = "x"
        path = path.replace(f"<{converter}>", value)
    return path


def _rules(app, method: str):
    return [
        r
        for r in app.url_map.iter_rules()
        if method in r.methods and not r.endpoint.endswith("static")
    ]


def _form_classes(cls=FlaskForm):
    for sub in cls.__subclasses__():
        yield sub
        yield from _form_classes(sub)


def _every_field_name() -> set[str]:
    names = {"action", "name", "quarter"}
    for form in _form_classes():
        names |= {n for n in dir(form) if isinstance(getattr(form, n, None), UnboundField)}
    return names - {"csrf_token", "submit"}


def _stored_nul_count() -> int:
    """Rows holding a NUL (SQLite stores one; PostgreSQL would have answered 500 instead)."""
    if db.engine.dialect.name != "sqlite":
        return 0
    found = 0
    for table in db.metadata.sorted_tables:
        texts = [c for c in table.columns if isinstance(c.type, String | Text)]
        if texts:
            where = or_(*(func.instr(c, "\x00") > 0 for c in texts))
            found += db.session.scalar(select(func.count()).select_from(table).where(where))
    return found


# ---------------------------------------------------------------- caching


def test_signed_in_responses_are_never_stored(app, client_as, demo):
    client = client_as(Role.ADMIN)
    page = client.get("/threats")
    csv = client.get("/export/threats.csv")
    objective_id = db.session.scalar(select(KeyResult.objective_id).limit(1))
    pdf = client.get(f"/reports/download?objective={objective_id}&quarter=FY20-21 Q2")
    _, secret = create_token(demo[Role.VIEWER], "cache test")
    db.session.commit()
    api = app.test_client().get("/api/v1/threats", headers={"Authorization": f"Bearer {secret}"})
    for response in (page, csv, pdf, api):
        assert response.status_code == 200
        cache = {part.strip() for part in response.headers["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= cache, (response.mimetype, cache)
        assert "no-cache" not in cache or "no-store" in cache
    assert pdf.mimetype == "application/pdf" and csv.mimetype == "text/csv"


def test_static_files_and_the_sign_in_page_signed_out_may_be_cached(client):
    assert "no-store" not in client.get("/healthz").headers.get("Cache-Control", "")
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")


# ---------------------------------------------------------------- control characters


def test_every_form_is_built_on_the_base_form_that_refuses_control_characters():
    from flask_wtf import FlaskForm as FlaskWtfForm

    import app.transfer.views  # noqa: F401 - its form class lives beside the views

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    outside = [c for c in subclasses(FlaskWtfForm) if not issubclass(c, FlaskForm)]
    assert outside == []
    assert len(list(_form_classes())) >= 25


def test_a_nul_byte_in_any_form_field_is_refused_beside_the_field(app, client_as, demo):
    client = client_as(Role.ADMIN)
    data = dict.fromkeys(_every_field_name(), NUL)
    planned = db.session.scalar(
        select(Countermeasure.id).where(Countermeasure.status == CountermeasureStatus.PLANNED)
    )
    ids = {"countermeasures.deploy": str(planned)}
    answers = {}
    for rule in _rules(app, "POST"):
        if rule.endpoint in ACTIONS_WITHOUT_TEXT or rule.rule.startswith("/api/"):
            continue
        response = client.post(_sample_path(rule, ids.get(rule.endpoint, "1")), data=data)
        assert response.status_code < 500, (rule.rule, response.status_code)
        body = response.get_data(as_text=True)
        if response.status_code in (302, 303):
            # A view that flashes its form's errors: the message is on the next page.
            body = client.get(response.headers["Location"]).get_data(as_text=True)
        answers[rule.endpoint] = (response.status_code, "U+0000" in body)
    for endpoint in FORM_ENDPOINTS:
        status, shown = answers[endpoint]
        assert (400 <= status < 500) or shown, (endpoint, status)
        if status == 302:
            assert shown, endpoint
    assert sum(shown for _, shown in answers.values()) >= 30
    assert _stored_nul_count() == 0


def test_the_sign_in_form_refuses_a_nul_byte(client, demo):
    response = client.post("/login", data={"email": "a\x00@test.example", "password": NUL})
    assert response.status_code == 400
    assert "Remove the control character U+0000" in response.get_data(as_text=True)


def test_line_breaks_are_kept_in_multi_line_text_but_not_in_one_line_fields(client_as, demo):
    client = client_as(Role.SECURITY)
    refused = client.post(
        "/threats/new",
        data={"title": "Tabs\tin a title", "description": "line one\r\nline two\tend"},
    )
    assert refused.status_code == 400
    assert "U+0009" in refused.get_data(as_text=True)
    saved = client.post(
        "/threats/new",
        data={
            "title": "Multi-line description",
            "description": "line one\r\nline two\tend",
            "category_id": "1",
            "inherent_likelihood": "3",
            "inherent_impact": "3",
            "residual_likelihood": "2",
            "residual_impact": "2",
            "identified_on": "2021-01-10",
            "status": "OPEN",
            "treatment": "MITIGATE",
            "source": "INTERNAL",
        },
    )
    assert "U+000" not in saved.get_data(as_text=True)


def test_a_control_character_in_any_query_value_is_a_400(app, client_as, demo):
    client = client_as(Role.ADMIN)
    walked = 0
    for rule in _rules(app, "GET"):
        path = _sample_path(rule)
        for query in ("q=a%00b", "status=%07", "page=1%0A", "a%00=1"):
            response = client.get(f"{path}?{query}")
            expected = 422 if path.startswith("/api/") else 400
            assert response.status_code == expected, (path, query, response.status_code)
        walked += 1
    assert walked > 40
    body = client.get("/threats?q=a%00b").get_data(as_text=True)
    assert "U+0000" in body and 'data-testid="error-page"' in body


def test_a_control_character_in_a_json_string_is_a_422(app, demo):
    _, secret = create_token(demo[Role.SECURITY], "json test")
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    for body in ({"title": NUL}, {"tags": ["ok", "b\x00d"]}, {"x\x00": 1}):
        response = client.post("/api/v1/threats", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json["status"] == 422
        assert "U+0000" in " ".join(response.json["errors"].values())
    assert client.get("/api/v1/threats?q=%00", headers=headers).status_code == 422


# ---------------------------------------------------------------- ids


@pytest.mark.parametrize("huge", [2**31, 2**63, 2**64 + 7])
def test_an_id_past_the_database_range_is_a_404_on_every_route(app, client_as, demo, huge):
    client = client_as(Role.ADMIN)
    checked = 0
    for rule in app.url_map.iter_rules():
        if not ID_ROUTE.search(rule.rule):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_sample_path(rule, str(huge)), method=method)
            assert response.status_code == 404, (rule.rule, method, response.status_code)
            checked += 1
    assert checked > 50


def test_the_largest_id_is_still_looked_up(client_as, demo):
    assert client_as(Role.ADMIN).get(f"/threats/{2**31 - 1}").status_code == 404
    assert client_as(Role.ADMIN).get("/threats/1").status_code == 200


# ---------------------------------------------------------------- long text


def test_a_100000_character_key_result_status_is_refused(app, client_as, demo):
    key_result = db.session.scalars(select(KeyResult).order_by(KeyResult.id)).first()
    before = db.session.scalar(select(func.count()).select_from(KeyResultStatus))
    response = client_as(Role.MANAGER).post(
        f"/key-results/{key_result.id}/status",
        data={"quarter": "FY20-21 Q2", "text": "A" * 100_000, "rating": ""},
    )
    assert response.status_code == 422
    assert "Use at most 500 characters." in response.get_data(as_text=True)
    longest = db.session.scalar(select(func.max(func.length(KeyResultStatus.text))))
    assert longest <= 500
    assert db.session.scalar(select(func.count()).select_from(KeyResultStatus)) == before


def test_a_text_limit_holds_in_the_form_the_api_and_the_csv_import(app, client_as, users):
    from app.coverage.checks import DESCRIPTION_MAX
    from app.transfer.service import check_file, format_for

    too_long = "d" * (DESCRIPTION_MAX + 1)
    form = client_as(Role.MANAGER).post(
        "/systems/new", data={"name": "Form system", "description": too_long}
    )
    assert form.status_code in (200, 400, 422)
    assert f"Use at most {DESCRIPTION_MAX} characters." in form.get_data(as_text=True)

    _, secret = create_token(users[Role.MANAGER], "limits")
    db.session.commit()
    api = app.test_client().post(
        "/api/v1/systems",
        json={"name": "API system", "description": too_long},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert api.status_code == 422 and "description" in api.json["errors"]

    headers = [column.header for column in format_for("systems").columns]
    cells = {"Name": "CSV system", "Description": too_long, "Criticality": "Medium"}
    csv = (",".join(headers) + "\n" + ",".join(cells.get(h, "") for h in headers)).encode()
    checked, _ = check_file("systems", csv)
    assert not checked.ok
    assert (2, "Description") in [(e.line, e.column) for e in checked.errors]

    longest = "d" * DESCRIPTION_MAX
    kept = client_as(Role.MANAGER).post(
        "/systems/new",
        data={"name": "Longest", "description": longest, "criticality": "MEDIUM"},
    )
    assert kept.status_code == 302
    assert db.session.scalar(select(func.length(System.description))) == DESCRIPTION_MAX


FILTERS_WITH_IDS = (
    "owner",
    "threat",
    "category",
    "system",
    "staff",
    "user",
    "entity_id",
    "objective",
    "staff_member_id",
    "system_id",
    "feed",
    "page",
    "per_page",
    "top",
    "year",
)


def test_a_huge_number_in_any_list_filter_never_fails(app, client_as, demo):
    # 2^31 is past PostgreSQL's INTEGER, 2^63 past every engine's integer.
    client = client_as(Role.ADMIN)
    past_all = "&".join(f"{name}={2**63}" for name in FILTERS_WITH_IDS)
    for rule in _rules(app, "GET"):
        if rule.rule.startswith("/api/") or "<int:" in rule.rule:
            continue
        path = _sample_path(rule)
        for name in FILTERS_WITH_IDS:
            response = client.get(f"{path}?{name}={2**31}")
            assert response.status_code < 500, (rule.rule, name, response.status_code)
        assert client.get(f"{path}?{past_all}").status_code < 500, rule.rule
