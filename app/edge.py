"""What every request and response passes through at the edge of the app.

- Input: a control character (a NUL byte first of all: PostgreSQL cannot store one) in a
  query-string value or a JSON string is refused before any view runs: 400 with the page
  layout, or 422 with the API's JSON error naming the field. Form fields are checked by the
  base form (``app/forms.py``) so the message stands beside the field; such a form answers
  400 instead of 200.
- Caching: every response to a signed-in user (page, CSV, PDF, API) is ``private, no-store``
  so neither a shared proxy nor the browser's cache keeps a copy of the register.
"""

from __future__ import annotations

from flask import Flask, abort, g, request, session

from app.security import wants_json
from app.validation import control_character_message

NO_STORE = "private, no-store, max-age=0"


def _json_strings(value, path: str = ""):
    """Every (name, text) in a JSON document: keys and string values, with dotted names."""
    if isinstance(value, str):
        yield path or "_", value
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            yield name, str(key)
            yield from _json_strings(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}.{index}" if path else str(index))


def _refused_input() -> tuple[str, str] | None:
    for name, values in request.args.lists():
        for text in [name, *values]:
            # A query value is one line: no tab or line break either.
            message = control_character_message(text, multiline=False)
            if message:
                return name, message
    if request.is_json and request.content_length:
        body = request.get_json(silent=True)
        for name, text in _json_strings(body):
            message = control_character_message(text)
            if message:
                return name, message
    return None


def refuse_control_characters():
    refused = _refused_input()
    if refused is None:
        return None
    name, message = refused
    if wants_json():
        from app.api.errors import json_error

        return json_error(422, "the request has invalid values", {name: message})
    abort(400, f"The value of “{name}” in the address was refused. {message}")


def no_store_when_signed_in(response):
    if g.get("refused_control_characters") and response.status_code == 200:
        response.status_code = 400  # a form shown again with the refusal beside its field
    endpoint = request.endpoint or ""
    if endpoint == "main.healthz" or endpoint == "static" or endpoint.endswith(".static"):
        return response  # static files and the health check may be cached
    # The session cookie (or the bearer token) says who asked; reading it loads no user.
    if "_user_id" in session or g.get("api_token") is not None:
        # Replaces what send_file set (the PDF's no-cache): no copy kept anywhere.
        response.headers["Cache-Control"] = NO_STORE
        response.headers["Pragma"] = "no-cache"
        response.headers.pop("Expires", None)
    return response


def register_edge(app: Flask) -> None:
    app.before_request(refuse_control_characters)
    app.after_request(no_store_when_signed_in)
