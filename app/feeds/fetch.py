"""Fetching registered feeds over HTTP(S): the same import as a manual upload.

Conditional requests (the last good fetch's ETag and Last-Modified), a timeout and a size
limit; every fetch, good or not, is recorded with its result and error for the feed's page.
A failed fetch leaves the candidates as they were.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import requests
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.feeds.service import import_bundle
from app.models.notifications import FeedFetch
from app.models.threats import ThreatFeed
from app.validation import InputError

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_TIMEOUT = 20.0


# A TAXII collection is read page by page up to this many objects per fetch.
TAXII_MAX_OBJECTS = 10_000


def fetchable(feed: ThreatFeed) -> bool:
    return feed.kind in ("stix", "taxii") and urlsplit(feed.url or "").scheme in ("http", "https")


def last_fetch(feed_id: int, outcomes: tuple[str, ...] | None = None) -> FeedFetch | None:
    query = select(FeedFetch).where(FeedFetch.feed_id == feed_id)
    if outcomes:
        query = query.where(FeedFetch.outcome.in_(outcomes))
    return db.session.scalar(query.order_by(FeedFetch.id.desc()).limit(1))


def _limit_text(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit} bytes"


def _download(feed: ThreatFeed, validators: FeedFetch | None) -> tuple[int, bytes, dict]:
    """(status, body, headers); raises InputError with a clear message."""
    limit = int(current_app.config.get("FEED_MAX_BYTES", DEFAULT_MAX_BYTES))
    timeout = float(current_app.config.get("FEED_TIMEOUT_SECONDS", DEFAULT_TIMEOUT))
    headers = {"Accept": "application/json, application/stix+json", "User-Agent": "Frontline"}
    if validators is not None:
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
    host = urlsplit(feed.url).netloc
    try:
        with requests.get(feed.url, headers=headers, timeout=timeout, stream=True) as response:
            if response.status_code == 304:
                return 304, b"", dict(response.headers)
            if not 200 <= response.status_code < 300:
                raise InputError(f"The feed answered HTTP {response.status_code}.")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise InputError(f"The answer is larger than the {_limit_text(limit)} limit.")
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > limit:
                    raise InputError(f"The answer is larger than the {_limit_text(limit)} limit.")
            return response.status_code, bytes(body), dict(response.headers)
    except requests.Timeout:
        raise InputError(f"{host} did not answer within {timeout:g} seconds.") from None
    except requests.RequestException as error:
        raise InputError(f"Could not reach {host}: {error}") from None


def _taxii_bundle(feed: ThreatFeed, validators: FeedFetch | None) -> tuple[bytes, str]:
    """The collection's objects added since the last good fetch, as one STIX bundle.

    (bundle, the server's newest date_added to ask from next time); raises InputError.
    """
    from taxii2client.common import _HTTPConnection
    from taxii2client.exceptions import TAXIIServiceException
    from taxii2client.v21 import Collection, as_pages

    limit = int(current_app.config.get("FEED_MAX_BYTES", DEFAULT_MAX_BYTES))
    timeout = float(current_app.config.get("FEED_TIMEOUT_SECONDS", DEFAULT_TIMEOUT))
    host = urlsplit(feed.url).netloc
    conn = _HTTPConnection(version="2.1", user_agent="Frontline")
    request = conn.session.request
    conn.session.request = lambda *a, **kw: request(*a, **{**kw, "timeout": timeout})
    newest = {"date": ""}

    def check(response, *args, **kwargs):
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise InputError(f"The answer is larger than the {_limit_text(limit)} limit.")
        newest["date"] = response.headers.get("X-TAXII-Date-Added-Last", newest["date"])

    conn.session.hooks["response"].append(check)
    url = feed.url if feed.url.endswith("/") else feed.url + "/"
    filters = {}
    if validators is not None and validators.last_modified:
        filters["added_after"] = validators.last_modified
    objects: list = []
    try:
        collection = Collection(url, conn=conn)
        for envelope in as_pages(collection.get_objects, per_request=100, **filters):
            objects += envelope.get("objects", []) or []
            if len(objects) > TAXII_MAX_OBJECTS:
                raise InputError(f"The collection has more than {TAXII_MAX_OBJECTS} new objects.")
    except InputError:
        raise
    except requests.Timeout:
        raise InputError(f"{host} did not answer within {timeout:g} seconds.") from None
    except requests.HTTPError as error:
        raise InputError(f"The TAXII server answered HTTP {error.response.status_code}.") from None
    except requests.RequestException as error:
        raise InputError(f"Could not reach {host}: {error}") from None
    except (TAXIIServiceException, ValueError) as error:
        raise InputError(f"The TAXII server's answer is not usable: {error}") from None
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    return json.dumps(bundle).encode(), newest["date"][:100]


def fetch_feed(feed: ThreatFeed, run_id: int | None = None) -> FeedFetch:
    """Fetch one feed and import what is new; the fetch is recorded and committed."""
    validators = last_fetch(feed.id, ("ok", "not_modified"))
    record = FeedFetch(feed_id=feed.id, run_id=run_id, outcome="error")
    try:
        if not fetchable(feed):
            raise InputError(
                "Only STIX and TAXII feeds with an http:// or https:// URL are fetched."
            )
        if feed.kind == "taxii":
            body, added_last = _taxii_bundle(feed, validators)
            status, headers = (
                200,
                {"Last-Modified": added_last or (validators.last_modified if validators else "")},
            )
        else:
            status, body, headers = _download(feed, validators)
        record.status_code = status
        if status == 304:
            record.outcome = "not_modified"
            record.etag = validators.etag if validators else ""
            record.last_modified = validators.last_modified if validators else ""
        else:
            try:
                summary = import_bundle(feed, body)
            except InputError as error:
                message = "; ".join(error.errors.values()).replace("The file is", "The answer is")
                raise InputError(message) from None
            record.outcome = "ok"
            record.new, record.updated, record.unchanged = (
                summary.new,
                summary.updated,
                summary.unchanged,
            )
            record.etag = (headers.get("ETag") or "")[:300]
            record.last_modified = (headers.get("Last-Modified") or "")[:100]
    except InputError as error:
        db.session.rollback()  # nothing half-imported
        record = FeedFetch(
            feed_id=feed.id,
            run_id=run_id,
            outcome="error",
            status_code=record.status_code,
            error=str(error)[:2000],
        )
    db.session.add(record)
    db.session.commit()
    return record
