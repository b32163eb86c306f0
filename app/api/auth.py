"""Bearer-token authentication: the token's user becomes ``current_user``.

A token opens /api/v1 and, read-only, a few downloads a script needs: the quarterly PDF,
the CSV/XLSX exports and the API's documentation page. Anything else outside /api/v1 (a
page, or any write) is refused to a token: forms keep their session and CSRF token.
Runs before the role check (``app.security.enforce_roles``), so the token owner's role
applies unchanged. Failed token attempts are counted per client address
(``TOKEN_FAILURE_LIMIT``, in the rate limiter's storage, so shared by the workers); past
the limit the address gets 429 without its token being looked at.
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
# Outside /api/v1, the GETs a token may make.
TOKEN_READS = frozenset({"reports.download", "transfer.export", "transfer.export_xlsx", "api.docs"})
READ_METHODS = frozenset({"GET", "HEAD"})


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


def _forbid(message: str):
    response = jsonify(error=message, status=403)
    response.status_code = 403
    return response


def authenticate_bearer():
    header = request.headers.get("Authorization")
    if header is None:
        return None  # a signed-in browser may read the API; writes are refused later
    scheme, _, secret = header.partition(" ")
    if not request.path.startswith(API_PATH):
        if scheme.lower() != "bearer":
            return None  # not ours (the session decides)
        if request.method not in READ_METHODS or request.endpoint not in TOKEN_READS:
            return _forbid(
                "A token reads /api/v1, /reports/download, the CSV and XLSX exports and "
                "/api/docs; anything else needs a signed-in session."
            )
    item = _failure_limit()
    address = request.remote_addr or "unknown"
    if item is not None:
        wait = _seconds_until_allowed(item, address)
        if wait is not None:
            return _too_many(wait)
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
