"""Paging of every API list: numbered pages, or keyset (cursor) pages that stay fast to
the last one, and the ``updated_since`` filter a client syncs with.

Numbered pages (``page``, ``per_page``) follow the list's own sort. Keyset pages
(``after`` / ``before``, an id) walk the list in id order: ``WHERE id > :after ORDER BY id
LIMIT n`` reads the index from where the previous page stopped, so the last page costs what
the first does, and rows inserted meanwhile neither shift nor repeat what was already read
(new rows have higher ids and come at the end). Both answer ``next`` / ``prev`` links in
the body and in a ``Link`` header (RFC 8288).
"""

from __future__ import annotations

import functools
import json
import math
from datetime import UTC

from flask import current_app, request, url_for
from sqlalchemy import func, select

from app.extensions import db
from app.models.base import utcnow

MAX_PER_PAGE = 1000


def _link(**changes) -> str:
    args = request.args.to_dict(flat=True)
    for key in ("page", "after", "before"):
        args.pop(key, None)
    args.update({k: v for k, v in changes.items() if v is not None})
    # Links are only made while answering a request that matched a route.
    assert request.endpoint is not None
    return url_for(request.endpoint, **(request.view_args or {}), **args, _external=False)


def _since(args, changed_at, query):
    since = args.get("updated_since")
    if since is None:
        return query
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    # Stored as UTC; compared as UTC on both databases (SQLite keeps no offset).
    return query.where(changed_at >= since.astimezone(UTC).replace(tzinfo=None))


def paginate(query, args, model, items_of=None, changed_at=None):
    """The page ``args`` ask for of ``query`` (a SELECT of ``model``, in the list's order):
    ``(body, 200, headers)`` for flask-smorest to dump; with ``items_of(ids) -> [str]`` (the
    items' JSON texts, for large pages), the page's ids are selected and the JSON answered
    as is. ``updated_since`` reads ``changed_at`` (default: the model's ``updated_at``)."""
    synced_at = utcnow()
    query = _since(args, model.updated_at if changed_at is None else changed_at, query)
    if items_of is not None:
        query = query.with_only_columns(model.id)

    def key(item):
        return item if items_of is not None else item.id

    per_page = args["per_page"]
    after, before = args.get("after"), args.get("before")
    total = None
    if before is None and not after:
        # Counted on numbered pages and on a walk's first page; a keyset page after that
        # reads only its own rows.
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if after is None and before is None:
        page = db.paginate(
            query,
            page=args["page"],
            per_page=per_page,
            max_per_page=MAX_PER_PAGE,
            error_out=False,
            count=False,
        )
        items = page.items
        number = page.page
        next_link = _link(page=number + 1) if number * per_page < (total or 0) else None
        prev_link = _link(page=number - 1) if number > 1 else None
    else:
        keyset = query.order_by(None).limit(per_page + 1)
        if after is not None:
            items = list(db.session.scalars(keyset.where(model.id > after).order_by(model.id)))
            more = len(items) > per_page
            items = items[:per_page]
            next_link = _link(after=key(items[-1])) if more else None
            prev_link = _link(before=key(items[0])) if items and after > 0 else None
        else:
            backwards = keyset.where(model.id < before).order_by(model.id.desc())
            items = list(db.session.scalars(backwards))
            more = len(items) > per_page
            items = items[:per_page][::-1]
            prev_link = _link(before=key(items[0])) if more else None
            next_link = _link(after=key(items[-1])) if items else _link(after=0)
        number = None
    links = [
        f'<{url}>; rel="{rel}"' for rel, url in (("next", next_link), ("prev", prev_link)) if url
    ]
    body = {
        "items": items,
        "page": number,
        "per_page": per_page,
        "total": total,
        "pages": None if total is None else math.ceil(total / per_page),
        "next": next_link,
        "prev": prev_link,
        "synced_at": synced_at,
    }
    headers = {"Link": ", ".join(links)} if links else {}
    if items_of is None:
        return body, 200, headers
    texts = items_of(items)
    body["items"] = []
    body["synced_at"] = synced_at.isoformat()
    # The items come as the database wrote their JSON: spliced in, not decoded and encoded.
    encoded = json.dumps(body, separators=(",", ":"))
    spliced = encoded.replace('"items":[]', '"items":[' + ",".join(texts) + "]", 1)
    response = current_app.response_class(spliced, mimetype="application/json")
    response.headers.update(headers)
    return response


def conditional(view):
    """An ETag on a detail read (a hash of the JSON answered), and 304 Not Modified when
    the client's If-None-Match still holds: a client polls a record without reading it
    again. Goes between the role mark and ``@blueprint.response``."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        response = view(*args, **kwargs)
        if response.status_code == 200:
            response.add_etag()
            response.make_conditional(request)
        return response

    return wrapper
