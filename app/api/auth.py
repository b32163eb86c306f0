"""Bearer-token authentication for /api/v1: the token's user becomes ``current_user``.

Runs before the role check (``app.security.enforce_roles``), so the role rules of the
web pages apply unchanged to API calls. Failed token attempts are counted per client
address (``TOKEN_FAILURE_LIMIT``, in the rate limiter's storage, so shared by the
workers); past the limit the address gets 429 without its token being looked at.
"""

from __future__ import annotations

import math
import time

from flask import current_app, g, jsonify, request
from limits import parse

from app.auth.tokens import TokenRefusedError, user_for_token
from app.extensions import limiter

API_PATH = "/api/v1/"
FAILURE_NAMESPACE = "token-failures"


def _refuse(message: str):
    response = jsonify(error=message, status=401)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="frontline"'
    return response


def _too_many(retry_after: int):
    response = jsonify(
        error="too many failed token attempts from your address; "
        f"try again in {retry_after} seconds",
        status=429,
    )
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def _failure_limit():
    if not limiter.enabled:
        return None
    return parse(current_app.config["TOKEN_FAILURE_LIMIT"])


def _seconds_until_allowed(item, key: str) -> int | None:
    if limiter.limiter.test(item, FAILURE_NAMESPACE, key):
        return None
    reset_at = limiter.limiter.get_window_stats(item, FAILURE_NAMESPACE, key).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def authenticate_bearer():
    if not request.path.startswith(API_PATH):
        return None
    header = request.headers.get("Authorization")
    if header is None:
        return None  # a signed-in browser may read the API; writes are refused later
    item = _failure_limit()
    address = request.remote_addr or "unknown"
    if item is not None:
        wait = _seconds_until_allowed(item, address)
        if wait is not None:
            return _too_many(wait)
    scheme, _, secret = header.partition(" ")
    try:
        if scheme.lower() != "bearer" or not secret.strip():
            raise TokenRefusedError("use Authorization: Bearer <token>")
        user, token = user_for_token(secret.strip())
    except TokenRefusedError as refused:
        if item is not None:
            limiter.limiter.hit(item, FAILURE_NAMESPACE, address)
        return _refuse(str(refused))
    # A token, when given, decides who is calling, whatever cookie came along with it.
    # Flask-Login reads the request's user from g._login_user; nothing goes in the session.
    g._login_user = user
    g.api_token = token
    return None
