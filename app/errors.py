"""Error pages in the site layout, or JSON for the API."""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

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


def _answer(code: int, message: str):
    if request.path.startswith("/api/"):
        response = jsonify(error=message, status=code)
        response.status_code = code
        return response
    title = TITLES.get(code, "Error")
    return render_template("errors/error.html", code=code, title=title, message=message), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in (301, 302, 303, 307, 308):
            return error
        answer = _answer(error.code or 500, error.description or TITLES.get(error.code, ""))
        if getattr(error, "valid_methods", None):
            # A 405 names the methods that are allowed (RFC 9110).
            response = make_response(answer)
            response.headers["Allow"] = ", ".join(error.valid_methods)
            return response
        return answer

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return _answer(500, "The error has been logged. Please try again or tell an administrator.")
