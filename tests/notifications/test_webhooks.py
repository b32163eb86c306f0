"""Webhooks against a local HTTP server: signed payloads, retries, nothing lost."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.notifications import SentNotification, WebhookDelivery
from app.models.user import Role
from app.notifications.webhooks import create_webhook
from tests.notifications.conftest import free_port


@pytest.fixture
def fast_retries(app):
    saved = app.config.get("WEBHOOK_BACKOFF_SECONDS"), app.config.get("WEBHOOK_TIMEOUT_SECONDS")
    app.config.update(WEBHOOK_BACKOFF_SECONDS=0.01, WEBHOOK_TIMEOUT_SECONDS=2)
    yield
    app.config["WEBHOOK_BACKOFF_SECONDS"], app.config["WEBHOOK_TIMEOUT_SECONDS"] = saved


def _run(runner, *args):
    return runner.invoke(args=["notify", "run", *args])


def _told_to(hook) -> set[str]:
    query = select(SentNotification.event_key).where(
        SentNotification.recipient == f"webhook:{hook.id}"
    )
    return set(db.session.scalars(query))


def test_signed_payload_retried_after_a_500_and_nothing_lost(
    app, demo, smtp, runner, http_server, fast_retries
):
    hook = create_webhook("Chat", http_server.url + "/hook")
    db.session.commit()
    http_server.answers = [(500, {}, b"busy")]
    result = _run(runner)
    assert result.exit_code == 0, result.output
    posts = [r for r in http_server.requests if r["method"] == "POST"]
    assert len(posts) == 2  # the 500, then the retry
    assert posts[0]["body"] == posts[1]["body"]
    for post in posts:
        timestamp = post["headers"]["X-Frontline-Timestamp"]
        expected = hmac.new(
            hook.secret.encode(), timestamp.encode() + b"." + post["body"], hashlib.sha256
        ).hexdigest()
        assert post["headers"]["X-Frontline-Signature"] == f"sha256={expected}"
    payload = json.loads(posts[1]["body"])
    assert "Frontline reminders for 2021-01-15" in payload["text"]  # Slack shows "text"
    keys = {e["key"] for e in payload["events"]}
    assert len([k for k in keys if k.startswith("review:")]) == 7
    assert keys == _told_to(hook)
    (delivery,) = db.session.scalars(select(WebhookDelivery)).all()
    assert delivery.ok and delivery.attempts == 2 and delivery.status_code == 200
    # A second run posts nothing more.
    assert _run(runner).exit_code == 0
    assert len([r for r in http_server.requests if r["method"] == "POST"]) == 2


def test_a_webhook_that_keeps_failing_keeps_its_events_for_the_next_run(
    app, demo, smtp, runner, http_server, fast_retries
):
    hook = create_webhook("Chat", http_server.url + "/hook")
    db.session.commit()
    http_server.default = (503, {}, b"down")
    result = _run(runner)
    assert result.exit_code != 0
    assert "Webhook “Chat”: The webhook answered HTTP 503." in result.output
    assert len(smtp.messages) >= 2  # the e-mails went anyway
    assert _told_to(hook) == set()
    (delivery,) = db.session.scalars(select(WebhookDelivery)).all()
    assert not delivery.ok and delivery.attempts == 3
    http_server.default = (200, {}, b"ok")
    assert _run(runner).exit_code == 0
    delivered = json.loads(http_server.requests[-1]["body"])
    assert {e["key"] for e in delivered["events"]} == _told_to(hook) != set()


def test_an_unreachable_webhook_host_is_a_clear_error(app, demo, smtp, runner, fast_retries):
    hook = create_webhook("Gone", f"http://127.0.0.1:{free_port()}/hook")
    db.session.commit()
    result = _run(runner)
    assert result.exit_code != 0
    assert "Webhook “Gone”: Could not reach 127.0.0.1:" in result.output
    assert _told_to(hook) == set()


def test_the_admin_test_button_reports_an_unreachable_host(app, client_as, fast_retries):
    hook = create_webhook("Gone", f"http://127.0.0.1:{free_port()}/hook")
    db.session.commit()
    client = client_as(Role.ADMIN)
    response = client.post(f"/admin/reminders/webhooks/{hook.id}/test", follow_redirects=True)
    assert "Test of “Gone” failed: Could not reach 127.0.0.1:" in response.text
    assert "failed" in client.get("/admin/reminders").text
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
