"""``feeds fetch`` against a local HTTP server serving the STIX fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.feeds.service import register_feed
from app.models import AuditEntry, ThreatCandidate
from app.models.notifications import FeedFetch, NotificationRun
from app.models.user import Role
from tests.notifications.conftest import LocalServer, free_port

BUNDLE = (Path(__file__).parent.parent / "fixtures" / "sample_bundle.json").read_bytes()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def feed_server():
    server = LocalServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def feed(feed_server):
    feed = register_feed("Example CERT", "stix", feed_server.url + "/bundle.json")
    db.session.commit()
    return feed


def _fetch(runner):
    return runner.invoke(args=["feeds", "fetch"])


def test_candidates_created_once_and_an_unchanged_etag_writes_nothing(
    app,
    runner,
    feed_server,
    feed,
):
    feed_server.default = (200, {"ETag": '"v1"', "Content-Type": "application/json"}, BUNDLE)
    result = _fetch(runner)
    assert result.exit_code == 0, result.output
    created = _count(ThreatCandidate)
    assert created > 0
    assert f"Example CERT: {created} new" in result.output
    audit_rows = _count(AuditEntry)

    # The second fetch sends the ETag; the server answers 304: nothing is written.
    feed_server.answers = [(304, {"ETag": '"v1"'}, b"")]
    result = _fetch(runner)
    assert result.exit_code == 0, result.output
    assert feed_server.requests[-1]["headers"]["If-None-Match"] == '"v1"'
    assert "not modified" in result.output
    assert _count(ThreatCandidate) == created
    assert _count(AuditEntry) == audit_rows
    # A server that ignores the ETag and sends the same bundle adds nothing either.
    assert _fetch(runner).exit_code == 0
    assert _count(ThreatCandidate) == created
    assert _count(AuditEntry) == audit_rows
    outcomes = list(db.session.scalars(select(FeedFetch.outcome).order_by(FeedFetch.id)))
    assert outcomes == ["ok", "not_modified", "ok"]
    assert _count(NotificationRun) == 3


def test_last_modified_is_sent_back(app, runner, feed_server, feed):
    stamp = "Wed, 13 Jan 2021 10:00:00 GMT"
    feed_server.default = (200, {"Last-Modified": stamp}, BUNDLE)
    assert _fetch(runner).exit_code == 0
    assert _fetch(runner).exit_code == 0
    assert feed_server.requests[-1]["headers"]["If-Modified-Since"] == stamp


@pytest.mark.parametrize(
    "body,message",
    [
        (b"x" * (10 * 1024 * 1024), "The answer is larger than the 5 MB limit."),
        (b"<html>Not here</html>", "The answer is not JSON (line 1, column 1"),
        (b'{"type": "report"}', "The JSON is not a STIX bundle"),
    ],
)
def test_a_bad_answer_is_a_clear_error_on_the_feed_page(
    app,
    runner,
    feed_server,
    feed,
    client_as,
    body,
    message,
):
    feed_server.default = (200, {}, body)
    result = _fetch(runner)
    assert result.exit_code != 0
    assert message in result.output
    assert _count(ThreatCandidate) == 0
    page = client_as(Role.VIEWER).get(f"/feeds/{feed.id}")
    assert message in page.text


def test_an_http_error_and_an_unreachable_host(app, runner, feed_server, feed):
    feed_server.default = (404, {}, b"gone")
    result = _fetch(runner)
    assert result.exit_code != 0 and "The feed answered HTTP 404." in result.output
    feed.url = f"http://127.0.0.1:{free_port()}/bundle.json"
    db.session.commit()
    result = _fetch(runner)
    assert result.exit_code != 0 and "Could not reach 127.0.0.1:" in result.output
    assert _count(ThreatCandidate) == 0


def test_a_feed_that_times_out(app, runner, feed_server, feed):
    app.config["FEED_TIMEOUT_SECONDS"] = 0.5
    feed_server.delay = 1.5
    feed_server.default = (200, {}, BUNDLE)
    try:
        result = _fetch(runner)
    finally:
        app.config.pop("FEED_TIMEOUT_SECONDS")
    assert result.exit_code != 0
    assert "did not answer within 0.5 seconds" in result.output
    assert _count(ThreatCandidate) == 0
    fetch = db.session.scalar(select(FeedFetch))
    assert fetch.outcome == "error"


def test_fetch_now_on_the_feed_page(app, feed_server, feed, client_as):
    feed_server.default = (200, {}, BUNDLE)
    client = client_as(Role.SECURITY)
    response = client.post(f"/feeds/{feed.id}/fetch", follow_redirects=True)
    assert "Fetched:" in response.text
    assert _count(ThreatCandidate) > 0
    assert client_as(Role.VIEWER).post(f"/feeds/{feed.id}/fetch").status_code == 403


TAXII = {"Content-Type": "application/taxii+json;version=2.1"}
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


def test_a_taxii_collection_is_fetched_through_taxii2_client(app, runner, feed_server):
    base = f"/api1/collections/{COLLECTION}/"
    info = {"id": COLLECTION, "title": "Example", "can_read": True, "can_write": False}
    objects = json.loads(BUNDLE)["objects"]
    envelope = {"more": False, "objects": objects}
    feed_server.routes = {
        base: (200, TAXII, json.dumps(info).encode()),
        base + "objects/": (
            200,
            {**TAXII, "X-TAXII-Date-Added-Last": "2021-01-13T10:00:00.000Z"},
            json.dumps(envelope).encode(),
        ),
    }
    feed = register_feed("Example TAXII", "taxii", feed_server.url + base)
    db.session.commit()
    result = _fetch(runner)
    assert result.exit_code == 0, result.output
    created = _count(ThreatCandidate)
    assert created > 0 and f"Example TAXII: {created} new" in result.output
    # The next fetch asks only for what was added since.
    assert _fetch(runner).exit_code == 0
    last = feed_server.requests[-1]
    assert last["path"].startswith(base + "objects/")
    assert "added_after=2021-01-13T10%3A00%3A00.000Z" in last["path"]
    assert _count(ThreatCandidate) == created
    fetch = db.session.scalar(select(FeedFetch).order_by(FeedFetch.id.desc()))
    assert fetch.feed_id == feed.id and fetch.outcome == "ok" and fetch.unchanged == created


def test_a_taxii_server_that_answers_html_is_a_clear_error(app, runner, feed_server):
    feed_server.default = (200, {"Content-Type": "text/html"}, b"<html></html>")
    register_feed("Wrong TAXII", "taxii", feed_server.url + f"/api1/collections/{COLLECTION}/")
    db.session.commit()
    result = _fetch(runner)
    assert result.exit_code != 0
    assert "The TAXII server's answer is not usable" in result.output
    assert _count(ThreatCandidate) == 0
