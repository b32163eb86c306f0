"""The OpenAPI document is generated from the code, and the API keeps its promises.

schemathesis generates requests from /api/v1/openapi.json and checks every answer:
no server error, status codes and bodies as documented (a bounded number of examples
per operation keeps the suite quick).
"""

from __future__ import annotations

import contextvars
import re
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.extensions import db
from app.models.user import Role
from tests.api import factories as f


def isolated(app):
    # Each request in its own context, as a real server runs it (see tests/conftest.py).
    def wsgi(environ, start_response):
        return contextvars.Context().run(app, environ, start_response)

    return wsgi


@pytest.fixture
def api_headers(token_of):
    return {"Authorization": f"Bearer {token_of(Role.ADMIN)}"}


@pytest.fixture
def api_schema(app, api_headers):
    billing = f.system("Billing")
    ada = f.staff("Ada")
    f.responsibility(ada, billing)
    t = f.threat("Phishing", systems=[billing])
    f.countermeasure("MFA", deployed_on=date(2020, 11, 1), threats=[t])
    db.session.commit()
    return schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", isolated(app), headers=api_headers
    )


schema = schemathesis.pytest.from_fixture("api_schema")

# No server error, and every answer as documented (status, content type, headers, body).
# Left out on purpose: "schema-valid data is accepted" (a label such as "FY20-22 Q1"
# matches the documented pattern yet names no fiscal year: a 422 is right) and
# "schema-violating data is rejected" (unknown query parameters are ignored, as the
# list pages ignore them).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_document(case, api_headers):
    case.call_and_validate(headers=api_headers, checks=CHECKS)


def test_document_is_openapi_3_and_needs_a_login(client, api_get):
    assert client.get("/api/v1/openapi.json").status_code == 401
    spec = api_get("/api/v1/openapi.json").json
    assert spec["openapi"] == "3.0.3"
    assert "/api/v1/threats" in spec["paths"] and "/api/v1/quarters/{label}" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_lists_paths_parameters_and_schemas(client_as):
    page = client_as(Role.VIEWER).get("/api/docs").get_data(as_text=True)
    assert "/api/v1/threats/{threat_id}" in page
    assert "per_page" in page and 'id="schema-Threat"' in page
    assert "cdn" not in page.lower()
    # Wide tables scroll in their own box: the page fits a 420px screen.
    tables = page.count("<table")
    boxed = re.findall(r'<div class="table-responsive">\s*<table', page)
    assert tables > 10 and len(boxed) == tables
