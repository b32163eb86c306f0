"""Threat-intelligence feeds: STIX bundles become candidates, accepted into the register or not."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.feeds.service import accept_candidate, feed_counts, import_bundle, register_feed
from app.models import CandidateStatus, Threat, ThreatCandidate, ThreatFeed, ThreatSource
from app.models.user import Role
from app.validation import InputError

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample_bundle.json"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def feed():
    feed = register_feed("Example CERT", "stix", "file:sample_bundle.json")
    db.session.commit()
    return feed


def test_bundle_becomes_candidates_and_reimport_adds_nothing(feed):
    summary = import_bundle(feed, SAMPLE.read_bytes())
    db.session.commit()
    assert (summary.new, summary.ignored) == (6, 2)
    types = sorted(db.session.scalars(select(ThreatCandidate.stix_type)))
    assert types == [
        "attack-pattern",
        "campaign",
        "indicator",
        "malware",
        "threat-actor",
        "vulnerability",
    ]
    indicator = db.session.scalar(
        select(ThreatCandidate).where(ThreatCandidate.stix_type == "indicator")
    )
    assert "payro11-portal.example" in indicator.description
    assert indicator.labels == ["malicious-activity"]
    again = import_bundle(feed, SAMPLE.read_bytes())
    db.session.commit()
    assert (again.new, again.unchanged) == (0, 6)
    assert count(ThreatCandidate) == 6


def test_not_json_is_a_clear_error_and_writes_nothing(feed):
    with pytest.raises(InputError) as refused:
        import_bundle(feed, b"indicator,phishing\n")
    assert "not JSON" in refused.value.errors["file"]
    db.session.rollback()
    assert count(ThreatCandidate) == 0


def test_json_that_is_not_a_valid_bundle_is_refused(feed):
    with pytest.raises(InputError, match="not a STIX bundle"):
        import_bundle(feed, b'{"type": "indicator"}')
    broken = json.loads(SAMPLE.read_text())
    del broken["objects"][1]["pattern"]
    with pytest.raises(InputError, match="not valid STIX 2.1"):
        import_bundle(feed, json.dumps(broken).encode())
    db.session.rollback()
    assert count(ThreatCandidate) == 0


def test_accepting_makes_a_threat_from_the_feed_and_counts_follow(feed, users):
    import_bundle(feed, SAMPLE.read_bytes())
    candidate = db.session.scalar(
        select(ThreatCandidate).where(ThreatCandidate.stix_type == "malware")
    )
    threat = accept_candidate(
        candidate, likelihood=4, impact=5, on=date(2021, 1, 15), user_id=users[Role.SECURITY].id
    )
    db.session.commit()
    assert threat.source == ThreatSource.THREAT_INTEL and threat.feed_id == feed.id
    assert threat.residual_score == 20 and len(threat.score_changes) == 1
    assert candidate.status == CandidateStatus.ACCEPTED and candidate.threat_id == threat.id
    with pytest.raises(InputError, match="already accepted"):
        accept_candidate(candidate, likelihood=1, impact=1, on=date(2021, 1, 15), user_id=None)
    db.session.rollback()
    counts = feed_counts()[feed.id]
    assert (counts.pending, counts.accepted, counts.dismissed, counts.threats) == (5, 1, 0, 1)
    assert count(Threat) == 1


def test_feed_pages_register_import_accept_and_dismiss(client_as):
    client = client_as(Role.SECURITY)
    response = client.post("/feeds", data={"name": "CERT", "kind": "stix", "url": ""})
    assert response.status_code == 302
    feed_id = db.session.scalar(select(ThreatFeed.id))
    response = client.post(
        f"/feeds/{feed_id}/import",
        data={"file": (io.BytesIO(b"not json"), "bundle.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "not JSON" in response.get_data(as_text=True)
    assert count(ThreatCandidate) == 0
    response = client.post(
        f"/feeds/{feed_id}/import",
        data={"file": (io.BytesIO(SAMPLE.read_bytes()), "bundle.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    first, second = db.session.scalars(
        select(ThreatCandidate.id).order_by(ThreatCandidate.id)
    ).all()[:2]
    assert (
        client.post(
            f"/feeds/candidates/{first}/accept", data={"likelihood": 2, "impact": 3}
        ).status_code
        == 302
    )
    assert client.post(f"/feeds/candidates/{second}/dismiss").status_code == 302
    page = client.get("/feeds").get_data(as_text=True)
    assert "CERT" in page
    counts = client.get(f"/feeds/{feed_id}").get_data(as_text=True)
    assert "4 pending" in counts and "1 accepted" in counts and "1 dismissed" in counts
    assert "1 threat in the register" in counts


def test_duplicate_feed_name_is_refused(feed, client_as):
    response = client_as(Role.SECURITY).post(
        "/feeds", data={"name": "example cert", "kind": "stix"}
    )
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert count(ThreatFeed) == 1


def test_viewer_reads_feeds_but_cannot_import(feed, client_as):
    client = client_as(Role.VIEWER)
    assert client.get("/feeds").status_code == 200
    assert client.post(f"/feeds/{feed.id}/import").status_code == 403


def test_accepting_follows_the_configured_matrix_and_rows_have_unique_ids(client_as):
    from app.domain.scoring import Level
    from app.threats.risk import review_intervals
    from app.threats.settings import save_risk_settings

    save_risk_settings(
        "R\nU\nP\nL\nA\nX", "N\nM\nMo\nMa\nS", {Level.MEDIUM: 6, Level.HIGH: 12}, review_intervals()
    )
    feed = register_feed("CERT", "stix", "")
    import_bundle(feed, SAMPLE.read_bytes())
    db.session.commit()
    client = client_as(Role.SECURITY)
    page = client.get(f"/feeds/{feed.id}").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "an id repeated on the page"
    assert page.count('name="csrf_token"') >= 6 and 'max="6"' in page
    first, second = db.session.scalars(
        select(ThreatCandidate.id).order_by(ThreatCandidate.id)
    ).all()[:2]
    # Likelihood 6 exists on a six-row matrix; 0 and 7 are refused, naming the real bounds.
    response = client.post(f"/feeds/candidates/{first}/accept", data={"likelihood": 6, "impact": 2})
    assert response.status_code == 302 and count(Threat) == 1
    response = client.post(
        f"/feeds/candidates/{second}/accept", data={"likelihood": 0, "impact": 2}
    )
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "from 1 to 6, impact from 1 to 5" in shown and count(Threat) == 1
    client.post(f"/feeds/candidates/{second}/accept", data={"likelihood": 7, "impact": 2})
    assert count(Threat) == 1
