"""Deny by default: every view declares who may call it, or nobody can.

A view is opened to signed-in users with ``@roles(...)`` (admin is always allowed)
or ``@readable`` (every role), or to everyone with ``@public``. The before-request
check in :func:`enforce_roles` refuses any view that declares nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, current_app, jsonify, redirect, request, url_for
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


def required_roles_of(endpoint: str) -> frozenset[Role] | None:
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return None
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


def enforce_roles():
    endpoint = request.endpoint
    if is_public_endpoint(endpoint):
        return None
    if not current_user.is_authenticated:
        if wants_json():
            response = jsonify(error="authentication required")
            response.status_code = 401
            return response
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    allowed = required_roles_of(endpoint)
    if not allowed or current_user.role not in allowed:
        abort(403)
    return None


def can(*allowed: Role) -> bool:
    """Template helper: may the current user do what these roles may do?"""
    return current_user.is_authenticated and current_user.has_role(*allowed)
