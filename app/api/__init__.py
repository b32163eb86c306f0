"""The JSON API under /api/v1 (flask-smorest), its OpenAPI document and the page showing it.

Each area's resources live beside it (``app/threats/api.py``...) as MethodView classes
on the blueprints of ``app/api/resources.py``, whose methods carry the usual
``@readable`` / ``@roles(...)`` marks; ``app.security`` checks them per HTTP method.
Authentication is by personal token (``app/api/auth.py``).
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app
from flask_smorest import Api

bp = Blueprint("api", __name__)

API_PREFIX = "/api/v1"


class FrontlineApi(Api):
    def _register_error_handlers(self):
        # The app's own handlers (app/errors.py) answer JSON under /api; flask-smorest's
        # would otherwise take over every HTTP error of the site, HTML pages included.
        pass


def current_api() -> FrontlineApi:
    return current_app.extensions["frontline_api"]


def register_api(app: Flask) -> None:
    from app.api import auth, docs  # noqa: F401 - routes of the api blueprint
    from app.api.errors import ApiErrorSchema
    from app.api.resources import blueprints
    from app.extensions import csrf

    app.config.setdefault("API_TITLE", "Frontline")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    # The document is served by our own view (signed in, JSON), not flask-smorest's blueprint.
    app.config.setdefault("OPENAPI_URL_PREFIX", None)
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": "Frontline's register, coverage and quarterly figures. "
                "Authenticate with a personal token: `Authorization: Bearer fl_...` "
                "(create one on your account's API tokens page)."
            },
            "servers": [{"url": "/"}],
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api = FrontlineApi()
    api.ERROR_SCHEMA = ApiErrorSchema
    api.init_app(app)
    app.extensions["frontline_api"] = api
    for blueprint in blueprints():
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint, url_prefix=API_PREFIX + blueprint.url_prefix)
    app.register_blueprint(bp)
    app.before_request(auth.authenticate_bearer)
