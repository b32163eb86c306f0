"""Bearer-token authentication: the token's user becomes ``current_user``.

A token opens /api/v1 and, read-only, a few downloads a script needs: the quarterly PDF,
the CSV/XLSX exports and the API's documentation page. Anything else outside /api/v1 (a
page, or any write) is refused to a token: forms keep their session and CSRF token.
Runs before the role check (``app.security.enforce_roles``), so the token owner's role
applies unchanged.
"""

from __future__ import annotations

from flask import g, jsonify, request

from app.auth.tokens import TokenRefusedError, user_for_token

API_PATH = "/api/v1/"
# Outside /api/v1, the GETs a token may make.
TOKEN_READS = frozenset({"reports.download", "transfer.export", "transfer.export_xlsx", "api.docs"})
READ_METHODS = frozenset({"GET", "HEAD"})


def _refuse(message: str):
    response = jsonify(error=message, status=401)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="frontline"'
    return response


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
