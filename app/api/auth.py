"""Bearer-token authentication for /api/v1: the token's user becomes ``current_user``.

Runs before the role check (``app.security.enforce_roles``), so the role rules of the
web pages apply unchanged to API calls.
"""

from __future__ import annotations

from flask import g, jsonify, request

from app.auth.tokens import TokenRefusedError, user_for_token

API_PATH = "/api/v1/"


def _refuse(message: str):
    response = jsonify(error=message, status=401)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="frontline"'
    return response


def authenticate_bearer():
    if not request.path.startswith(API_PATH):
        return None
    header = request.headers.get("Authorization")
    if header is None:
        return None  # a signed-in browser may read the API; writes are refused later
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return _refuse("use Authorization: Bearer <token>")
    try:
        user, token = user_for_token(secret.strip())
    except TokenRefusedError as refused:
        return _refuse(str(refused))
    # A token, when given, decides who is calling, whatever cookie came along with it.
    # Flask-Login reads the request's user from g._login_user; nothing goes in the session.
    g._login_user = user
    g.api_token = token
    return None
