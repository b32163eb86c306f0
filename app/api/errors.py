"""API errors: always JSON, ``{"error": "...", "status": 422, "errors": {field: message}}``.

HTTP errors outside a view (404, 405, 401, 403) are answered by ``app/errors.py``, which
speaks JSON under /api; the handlers here cover what views raise: request validation
(422), the areas' ``InputError`` (422) and ``ConflictError`` (409).
"""

from __future__ import annotations

import marshmallow as ma
from flask import jsonify
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import UnprocessableEntity

from app.extensions import db
from app.validation import ConflictError, InputError


class ApiErrorSchema(ma.Schema):
    error = ma.fields.String(required=True, metadata={"description": "What went wrong"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        metadata={"description": "A message per field that was refused"},
    )


def json_error(status: int, message: str, errors: dict[str, str] | None = None):
    body: dict = {"error": message, "status": status}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    return response


def _flatten(messages, prefix: str = "") -> dict[str, str]:
    """webargs' {"query": {"page": ["Must be ..."]}} → {"page": "Must be ..."}."""
    flat: dict[str, str] = {}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, name))
        elif isinstance(value, list | tuple):
            texts = [v for v in value if isinstance(v, str)]
            nested = [v for v in value if isinstance(v, dict)]
            if texts:
                flat[name] = " ".join(texts)
            for item in nested:
                flat.update(_flatten(item, name))
        else:
            flat[name] = str(value)
    return flat


def validation_errors(error: UnprocessableEntity) -> dict[str, str]:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors") or {}
    flat: dict[str, str] = {}
    # The first level is where the value came from (json, query, path): not part of the name.
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            flat.update(_flatten(location_messages))
    return flat


def register_api_errors(blueprint) -> None:
    @blueprint.errorhandler(UnprocessableEntity)
    def unprocessable(error):
        return json_error(422, "the request has invalid values", validation_errors(error))

    @blueprint.errorhandler(InputError)
    def input_error(error: InputError):
        db.session.rollback()
        return json_error(422, "the request has invalid values", error.errors)

    @blueprint.errorhandler(ConflictError)
    def conflict(error: ConflictError):
        db.session.rollback()
        return json_error(409, error.message)

    @blueprint.errorhandler(StaleDataError)
    def stale(error: StaleDataError):
        # Changed by someone else between this request's read and its write.
        db.session.rollback()
        return json_error(409, ConflictError().message)
