"""The resources every area declares the same way, built from what differs: a list paged
and added to at ``/<records>``, one record read and changed at ``/<records>/<id>``, and an
action posted on one record (``/<records>/<id>/status``...), and a figure read from the
query string (``query_read``). The area's ``api.py`` names the
record, its schemas, the related rows to load and its service calls; this module holds the
steps (paging, load or 404, role marks, ETag, the conflict documented, commit with the
published warnings).

A resource's documentation is its docstrings, passed in as ``listed``/``added``/``read``/
``changed``/``doc``: the OpenAPI document reads them where flask-smorest finds them, on the
methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from flask.views import MethodView

from app.api import writes as w
from app.api.paging import conditional, paginate
from app.api.resources import get_or_404
from app.api.schemas import RecordSchemas
from app.api.strict import Blueprint
from app.models.user import Role
from app.security import readable, roles

Change = Callable[[Any, dict], Any]


def _documented(view: Callable, doc: str) -> Callable:
    # Set before the decorators copy it (functools.wraps) and the route reads it.
    view.__doc__ = doc
    return view


def _only_id(ids: dict) -> int:
    (record_id,) = ids.values()
    return record_id


class Write(NamedTuple):
    """How an action is written: against the version the client read (409 documented for
    one that changed meanwhile), and whether it needs a body at all."""

    versioned: bool = True
    body_required: bool = True


def _changing(
    blp: Blueprint, body_schema: Any, schema: Any, view: Callable, doc: str, write: Write = Write()
):
    """A write of one record's current state: the body, the record answered, 409 documented
    for a version that changed meanwhile."""
    view = _documented(view, doc)
    if write.versioned:
        view = blp.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")(
            view
        )
    view = blp.response(200, schema)(view)
    return blp.arguments(body_schema, required=write.body_required)(view)


def _reading(blp: Blueprint, args_schema: Any, schema: Any, view: Callable, doc: str):
    """A read of the query string, open to every role."""
    view = blp.response(200, schema)(_documented(view, doc))
    return readable(blp.arguments(args_schema, location="query")(view))


def _saved(record, result):
    return w.saved(record if result is None else result)


def merged_update(values: Callable[[Any], dict], update: Callable[..., Any]) -> Change:
    """The update of most records: the body merged into the record's current values, with
    the ``version`` the client read."""

    def change(record, body: dict):
        return update(record, version=body["version"], **w.merged(values(record), body))

    return change


def record_list(
    blp: Blueprint,
    rule: str,
    name: str,
    *,
    model: type,
    args_schema: Any,
    page_schema: Any,
    query: Callable[[dict], Any],
    listed: str,
    schema: Any,
    create_schema: Any,
    role: Role,
    create: Callable[[dict], Any],
    added: str,
    items_of: Callable | None = None,
) -> type[MethodView]:
    """GET a page of the records ``query`` selects from the query string, and POST one
    made by ``create`` from the body (201, the record as saved); ``items_of`` as
    ``paginate`` takes it."""

    def get(self, args):
        return paginate(query(args), args, model, items_of)

    def post(self, body):
        return w.saved(create(body))

    get = _reading(blp, args_schema, page_schema, get, listed)
    post = roles(role)(
        blp.arguments(create_schema)(blp.response(201, schema)(_documented(post, added)))
    )
    view = type(name, (MethodView,), {"get": get, "post": post})
    return blp.route(rule)(view)


def query_read(
    blp: Blueprint,
    rule: str,
    name: str,
    *,
    args_schema: Any,
    schema: Any,
    answer: Callable[[dict], Any],
    doc: str,
) -> type[MethodView]:
    """GET what ``answer`` makes of the query string: a figure, a year's objectives, a
    report's state."""

    def get(self, args):
        return answer(args)

    get = _reading(blp, args_schema, schema, get, doc)
    view = type(name, (MethodView,), {"get": get})
    return blp.route(rule)(view)


def record_detail(
    blp: Blueprint,
    rule: str,
    name: str,
    *,
    model: type,
    schema: Any,
    update_schema: Any,
    role: Role,
    change: Change,
    read: str,
    changed: str,
    loads: tuple = (),
) -> type[MethodView]:
    """GET one record (404 if absent, an ETag) and PATCH it through ``change`` (409 when
    it changed meanwhile); the answer is the record as it now stands."""

    def get(self, **ids):
        return get_or_404(model, _only_id(ids), *loads)

    def patch(self, body, **ids):
        record = get_or_404(model, _only_id(ids), *loads)
        return _saved(record, change(record, body))

    get = readable(conditional(blp.response(200, schema)(_documented(get, read))))
    patch = roles(role)(_changing(blp, update_schema, schema, patch, changed))
    view = type(name, (MethodView,), {"get": get, "patch": patch})
    return blp.route(rule)(view)


def record_action(
    blp: Blueprint,
    rule: str,
    name: str,
    *,
    load: Callable[[int], Any],
    body_schema: Any,
    schema: Any,
    role: Role,
    act: Change,
    doc: str,
    write: Write = Write(),
) -> type[MethodView]:
    """POST an action on one record (a dated status, a deployment...), 409 when the record
    changed meanwhile (unless ``write`` says it is not versioned); the answer is what ``act``
    returns, or the record."""

    def post(self, body, **ids):
        record = load(_only_id(ids))
        return _saved(record, act(record, body))

    post = _changing(blp, body_schema, schema, post, doc, write)
    view = type(name, (MethodView,), {"post": post})
    # POST only: OPTIONS takes the class default
    return blp.route(rule)(roles(role)(view))


class RecordDocs(NamedTuple):
    """What the OpenAPI document says of a record's list, its create, its read and its
    change (the methods' docstrings)."""

    listed: str
    added: str
    read: str
    changed: str


def record_resources(
    blp: Blueprint,
    routes: tuple[str, str, str, str],
    *,
    model: type,
    schemas: RecordSchemas,
    query: Callable[[dict], Any],
    create: Callable[[dict], Any],
    change: Change,
    docs: RecordDocs,
    role: Role,
    loads: tuple = (),
) -> None:
    """A record's list (``record_list``) and its one record (``record_detail``), declared
    together: ``routes`` the list's rule and view name, then the record's; ``loads`` the
    related rows both answer with."""
    if loads:
        query = _loading(query, loads)
    shared = {"model": model, "schema": schemas.answer, "role": role}
    record_list(
        blp,
        routes[0],
        routes[1],
        args_schema=schemas.args,
        page_schema=schemas.page,
        query=query,
        listed=docs.listed,
        create_schema=schemas.create,
        create=create,
        added=docs.added,
        **shared,
    )
    record_detail(
        blp,
        routes[2],
        routes[3],
        update_schema=schemas.update,
        change=change,
        read=docs.read,
        changed=docs.changed,
        loads=loads,
        **shared,
    )


def _loading(query: Callable[[dict], Any], loads: tuple) -> Callable[[dict], Any]:
    return lambda args: query(args).options(*loads)


def created_from(create: Callable[..., Any], *required: str) -> Callable[[dict], Any]:
    """The create of most records: the body as keyword arguments, the ``required`` ones
    None when left out (for the service to say so beside the field)."""
    return lambda body: create(**(dict.fromkeys(required) | body))
