"""Error pages in the site layout, or JSON for the API."""

from __future__ import annotations

import math
import time

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import Forbidden, HTTPException

from app.extensions import db

TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Changed by someone else",
    413: "Too large",
    429: "Too many attempts",
    500: "Something went wrong",
}


# Seconds a client is told to wait when a 429 carries no better figure.
DEFAULT_RETRY_AFTER = 60

FORBIDDEN_API = "your role may not do this; ask an administrator if your work needs it"


def _answer(code: int, message: str):
    if request.path.startswith("/api/"):
        response = jsonify(error=message, status=code)
        response.status_code = code
        return response
    title = TITLES.get(code, "Error")
    return render_template("errors/error.html", code=code, title=title, message=message), code


def _retry_after(error: HTTPException) -> int:
    from app.extensions import limiter

    given = getattr(error, "retry_after", None)
    if isinstance(given, int | float):
        return max(1, math.ceil(given))
    current = limiter.current_limit if limiter.enabled else None
    if current is not None:
        # The window's own reset time (RequestLimit.reset_at adds a second), never past the
        # window's length.
        left = math.ceil(current.window.reset_time - time.time())
        return max(1, min(current.limit.get_expiry(), left))
    return DEFAULT_RETRY_AFTER


def _forbidden(error: HTTPException):
    # abort(403, "...") keeps its own words; the bare abort(403) gets ours.
    own_words = error.description != Forbidden.description
    if request.path.startswith("/api/"):
        return _answer(403, (error.description if own_words else None) or FORBIDDEN_API)
    return render_template("errors/403.html", message=error.description if own_words else None), 403


def _too_many_requests(error: HTTPException):
    wait = _retry_after(error)
    if request.path.startswith("/api/"):
        response = _answer(429, f"too many requests; try again in {wait} seconds")
    else:
        response = make_response(render_template("errors/429.html", wait=wait), 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _retry_after_on_every_429(response):
    if response.status_code == 429 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(DEFAULT_RETRY_AFTER)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in (301, 302, 303, 307, 308):
            return error
        if error.code == 403:
            return _forbidden(error)
        if error.code == 429:
            return _too_many_requests(error)
        code = error.code or 500
        answer = _answer(code, error.description or TITLES.get(code, ""))
        valid_methods = getattr(error, "valid_methods", None)
        if valid_methods:
            # A 405 names the methods that are allowed (RFC 9110).
            response = make_response(answer)
            response.headers["Allow"] = ", ".join(valid_methods)
            return response
        return answer

    app.after_request(_retry_after_on_every_429)

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return _answer(500, "The error has been logged. Please try again or tell an administrator.")
