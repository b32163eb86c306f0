"""Deny by default: every view declares who may call it, or nobody can.

A view is opened to signed-in users with ``@roles(...)`` (admin is always allowed)
or ``@readable`` (every role), or to everyone with ``@public``. The before-request
check in :func:`enforce_roles` refuses any view that declares nothing.

Class-based views (``MethodView``, as the API uses) declare per HTTP method: the same
decorators go on their ``get``/``post``/``patch``... methods; one on the class is the
default for methods that declare nothing. HEAD and OPTIONS follow GET.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, current_app, g, jsonify, redirect, request, url_for
from flask_login import current_user

from app.models.user import Role

F = TypeVar("F", bound=Callable)

ALL_ROLES = frozenset(Role)


def roles(*allowed: Role) -> Callable[[F], F]:
    def mark(view: F) -> F:
        view.required_roles = frozenset(allowed) | {Role.ADMIN}  # type: ignore[attr-defined]
        return view

    return mark


def readable(view: F) -> F:
    view.required_roles = ALL_ROLES  # type: ignore[attr-defined]
    return view


def public(view: F) -> F:
    view.is_public = True  # type: ignore[attr-defined]
    return view


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# All a person whose role requires two-factor sign-in may reach before turning it on.
ENROLMENT_ENDPOINTS = frozenset({"auth.two_factor_setup", "auth.logout"})


def required_roles_of(endpoint: str, method: str = "GET") -> frozenset[Role] | None:
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return None
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        name = "get" if method.upper() in ("HEAD", "OPTIONS") else method.lower()
        handler = getattr(view_class, name, None)
        declared = getattr(handler, "required_roles", None)
        if declared is not None:
            return declared
        return getattr(view_class, "required_roles", None)
    return getattr(view, "required_roles", None)


def is_public_endpoint(endpoint: str | None) -> bool:
    if endpoint is None:
        return True  # 404s and 405s: let Flask answer them
    if endpoint == "static" or endpoint.endswith(".static") or endpoint == "bootstrap.static":
        return True
    view = current_app.view_functions.get(endpoint)
    return bool(getattr(view, "is_public", False))


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _json_error(message: str, status: int):
    response = jsonify(error=message, status=status)
    response.status_code = status
    return response


def enforce_roles():
    endpoint = request.endpoint
    if is_public_endpoint(endpoint):
        return None
    if not current_user.is_authenticated:
        if wants_json():
            return _json_error("authentication required: send Authorization: Bearer <token>", 401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    allowed = required_roles_of(endpoint, request.method)
    if not allowed or current_user.role not in allowed:
        abort(403)
    if (
        not current_user.has_two_factor
        and endpoint not in ENROLMENT_ENDPOINTS
        and g.get("api_token") is None
    ):
        from app.auth.two_factor import must_enrol

        if must_enrol(current_user):
            # The role requires two-factor sign-in: nothing else until it is on.
            if wants_json():
                return _json_error("two-factor sign-in must be turned on first", 403)
            return redirect(url_for("auth.two_factor_setup"))
    if wants_json() and request.method not in SAFE_METHODS and g.get("api_token") is None:
        # API writes need the bearer token: the API is exempt from CSRF (token clients send
        # no cookies), so a browser session alone must never be enough to change data.
        return _json_error("API changes need a personal token: Authorization: Bearer <token>", 401)
    return None


def can(*allowed: Role) -> bool:
    """Template helper: may the current user do what these roles may do?"""
    return current_user.is_authenticated and current_user.has_role(*allowed)
