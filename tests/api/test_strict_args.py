"""Unknown query arguments answer 422 naming them; ranges and date rules are documented."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models.user import Role
from tests.api import factories as f


@pytest.mark.parametrize(
    "url, names",
    [
        ("/api/v1/threats?top=2", {"top"}),
        ("/api/v1/threats?bogus=1", {"bogus"}),
        ("/api/v1/threats?bogus=1&status=identified&colour=red", {"bogus", "colour"}),
        ("/api/v1/countermeasures?bogus=1", {"bogus"}),
        ("/api/v1/systems?pages=2", {"pages"}),
        ("/api/v1/responsibilities?bogus=", {"bogus"}),
        ("/api/v1/threats/1?bogus=1", {"bogus"}),
        ("/api/v1/okrs?bogus=1", {"bogus"}),
    ],
)
def test_unknown_query_arguments_answer_422_naming_them(api_get, url, names):
    f.threat("Phishing")
    db.session.commit()
    response = api_get(url)
    assert response.status_code == 422, response.json
    assert set(response.json["errors"]) == names


def test_known_arguments_still_work(api_get):
    f.threat("Phishing")
    db.session.commit()
    assert api_get("/api/v1/threats?status=identified&per_page=5").status_code == 200
    assert api_get("/api/v1/threats?status=").status_code == 200  # the page's "any"


def test_document_states_score_bounds_enums_and_date_rules(api_get):
    from app.threats.risk import risk_matrix

    matrix = risk_matrix()
    spec = api_get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    likelihood = schemas["ThreatCreate"]["properties"]["inherent_likelihood"]
    assert (likelihood["minimum"], likelihood["maximum"]) == (1, matrix.max_likelihood)
    impact = schemas["ResidualScore"]["properties"]["impact"]
    assert (impact["minimum"], impact["maximum"]) == (1, matrix.max_impact)
    assert "exclusive" in schemas["SystemCreate"]["properties"]["retired_on"]["description"]
    assert "inclusive" in schemas["Staff"]["properties"]["left_on"]["description"]
    assert "inclusive" in schemas["ResponsibilityCreate"]["properties"]["until"]["description"]
    assert "ties" in schemas["TopThreat"]["properties"]["rank"]["description"]
    params = {p["name"]: p for p in spec["paths"]["/api/v1/threats"]["get"]["parameters"]}
    assert params["status"]["schema"]["enum"] == [
        "identified",
        "assessed",
        "in_treatment",
        "monitoring",
        "closed",
    ]
    assert params["per_page"]["schema"]["maximum"] == 1000


def test_head_reads_like_get(api_get, client, token_of):
    headers = {"Authorization": f"Bearer {token_of(Role.VIEWER)}"}
    assert client.head("/api/v1/threats?status=identified", headers=headers).status_code == 200
    assert client.head("/api/v1/threats?bogus=1", headers=headers).status_code == 422
