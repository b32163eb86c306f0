"""Webhooks: the same events as the digests, POSTed as Slack-compatible JSON and signed.

Each POST carries ``X-Frontline-Timestamp`` and ``X-Frontline-Signature: sha256=<hex>``,
the HMAC-SHA256 of ``<timestamp>.<body>`` with the webhook's secret. A failed POST is
retried with back-off; what still fails is not recorded as told, so the next run sends it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import date
from urllib.parse import urlsplit

import requests
from flask import current_app
from sqlalchemy import func, select

from app.domain.reminders import KINDS, Event, should_tell
from app.extensions import db
from app.models.notifications import Webhook, WebhookDelivery
from app.validation import InputError

EVENTS_PER_POST = 50
USER_AGENT = "Frontline-webhooks/1"


def check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError({"url": "Use an http:// or https:// address with a host name."})
    if len(url) > 500:
        raise InputError({"url": "Use at most 500 characters."})
    return url


def create_webhook(name: str, url: str) -> Webhook:
    name = (name or "").strip()
    errors = {}
    if not name or len(name) > 120:
        errors["name"] = "Name the webhook (at most 120 characters)."
    elif db.session.scalar(select(Webhook.id).where(func.lower(Webhook.name) == name.lower())):
        errors["name"] = f"A webhook named “{name}” already exists."
    try:
        url = check_url(url)
    except InputError as error:
        errors.update(error.errors)
    if errors:
        raise InputError(errors)
    hook = Webhook(name=name, url=url, secret=secrets.token_urlsafe(32), active=True)
    db.session.add(hook)
    db.session.flush()
    return hook


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def payload(events: list[Event], today: date) -> dict:
    lines = [f"*Frontline reminders for {today.isoformat()}*"]
    lines += [f"• {KINDS[e.kind]}: <{e.path}|{e.title}> — {e.detail}" for e in events]
    return {
        "text": "\n".join(lines),
        "events": [
            {
                "key": e.key,
                "kind": e.kind,
                "title": e.title,
                "detail": e.detail,
                "url": e.path,
                "fingerprint": e.fingerprint,
            }
            for e in events
        ],
    }


def post(hook: Webhook, body: bytes) -> tuple[int, int | None, str]:
    """POST with retries and back-off: (attempts, last status code, error or "")."""
    attempts = int(current_app.config.get("WEBHOOK_ATTEMPTS", 3))
    backoff = float(current_app.config.get("WEBHOOK_BACKOFF_SECONDS", 1.0))
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10))
    status, error = None, ""
    for attempt in range(1, attempts + 1):
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Frontline-Timestamp": timestamp,
            "X-Frontline-Signature": sign(hook.secret, timestamp, body),
        }
        try:
            response = requests.post(
                hook.url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            )
            status = response.status_code
            if 200 <= status < 300:
                return attempt, status, ""
            error = f"The webhook answered HTTP {status}."
        except requests.RequestException as exc:
            status, error = None, f"Could not reach {urlsplit(hook.url).netloc}: {exc}"
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    return attempts, status, error


def deliver_webhooks(hooks, events: list[Event], today: date, run_id: int, summary) -> None:
    from app.notifications.service import record_told, told_before

    for hook in hooks:
        recipient = f"webhook:{hook.id}"
        told = told_before([recipient])
        pending = [e for e in events if should_tell(e, told.get((recipient, e.key)), today)]
        for start in range(0, len(pending), EVENTS_PER_POST):
            batch = pending[start : start + EVENTS_PER_POST]
            body = json.dumps(payload(batch, today)).encode()
            attempts, status, error = post(hook, body)
            db.session.add(
                WebhookDelivery(
                    webhook_id=hook.id,
                    run_id=run_id,
                    events=len(batch),
                    attempts=attempts,
                    status_code=status,
                    ok=not error,
                    error=error,
                )
            )
            if error:
                db.session.commit()
                summary.failures += 1
                summary.errors.append(f"Webhook “{hook.name}”: {error}")
                break  # the rest waits for the next run, in order
            replaced = [e.key for e in batch if (recipient, e.key) in told]
            record_told(recipient, batch, replaced, today, run_id)
            db.session.commit()
            summary.deliveries += 1


def ping(hook: Webhook) -> tuple[int, int | None, str]:
    """A test POST (one attempt): what the admin page's Test button reports."""
    body = json.dumps({"text": "Frontline webhook test", "events": []}).encode()
    timestamp = str(int(time.time()))
    try:
        response = requests.post(
            hook.url,
            data=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-Frontline-Timestamp": timestamp,
                "X-Frontline-Signature": sign(hook.secret, timestamp, body),
            },
            timeout=float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10)),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return 1, None, f"Could not reach {urlsplit(hook.url).netloc}: {exc}"
    if 200 <= response.status_code < 300:
        return 1, response.status_code, ""
    return 1, response.status_code, f"The webhook answered HTTP {response.status_code}."
