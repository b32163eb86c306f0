"""Frontline: a risk register and threat-countermeasure tracker."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import BASE_DIR, INSTANCE_DIR, config_for
from app.extensions import bootstrap, csrf, db, limiter, login_manager, migrate, talisman


def create_app(config_name: str | None = None, **overrides) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    app.config.from_object(config_for(config_name))
    app.config.update(overrides)
    register_proxies(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_security(app)
    register_template_helpers(app)
    from app.once import register_once

    register_once(app)
    register_commands(app)
    return app


def register_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto/-Host from TRUSTED_PROXIES proxies (0: from none).

    Behind the documented TLS proxy the client address is then the real one, for the
    per-address limits and the audit log; with no proxy trusted a client cannot forge it.
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        # Flask's documented way to wrap the app in middleware; mypy sees a method assigned.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401 - every model on the metadata before Alembic looks

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=app.config["REMEMBER_ME_DAYS"])
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        frame_options="DENY",
        content_security_policy={
            "default-src": "'self'",
            "script-src": "'self'",
            # Bootstrap progress bars and the heat map size themselves with style attributes.
            "style-src": "'self' 'unsafe-inline'",
            "img-src": "'self' data:",
            "object-src": "'none'",
            "base-uri": "'self'",
            # Signing out of single sign-on ends at the provider (a form's redirect).
            "form-action": ["'self'", *_provider_origin(app.config.get("OIDC_ISSUER"))],
            "frame-ancestors": "'none'",
        },
    )


def _provider_origin(issuer: str | None) -> list[str]:
    from urllib.parse import urlsplit

    parts = urlsplit(issuer or "")
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def register_converters(app: Flask) -> None:
    """`<int:id>` in a route stops at the largest id: a larger number is a 404, not a 500."""
    from werkzeug.routing import IntegerConverter

    from app.validation import MAX_ID

    class RecordIdConverter(IntegerConverter):
        def __init__(self, url_map, *args, **kwargs):
            kwargs.setdefault("max", MAX_ID)
            super().__init__(url_map, *args, **kwargs)

    app.url_map.converters["int"] = RecordIdConverter


def register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.api import register_api
    from app.auth import bp as auth_bp
    from app.catalogues import bp as catalogues_bp
    from app.countermeasures import bp as countermeasures_bp
    from app.coverage import bp as coverage_bp
    from app.errors import register_error_handlers
    from app.feeds import bp as feeds_bp
    from app.main import bp as main_bp
    from app.notifications import bp as notifications_bp
    from app.okrs import bp as okrs_bp
    from app.reports import bp as reports_bp
    from app.threats import bp as threats_bp
    from app.transfer import bp as transfer_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(countermeasures_bp)
    app.register_blueprint(coverage_bp)
    app.register_blueprint(catalogues_bp)
    app.register_blueprint(transfer_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(okrs_bp)
    app.register_blueprint(notifications_bp)
    register_api(app)
    app.register_blueprint(threats_bp)
    app.register_blueprint(reports_bp)
    register_error_handlers(app)


def register_security(app: Flask) -> None:
    from app.auth.session import load_user
    from app.edge import register_edge
    from app.security import enforce_roles

    login_manager.user_loader(load_user)
    app.before_request(enforce_roles)
    register_edge(app)


def register_template_helpers(app: Flask) -> None:
    from flask import request
    from flask_login import current_user

    from app.models.user import Role
    from app.security import can, required_roles_of

    def has_endpoint(endpoint: str) -> bool:
        return endpoint in app.view_functions

    def endpoint_allowed(endpoint: str) -> bool:
        allowed = required_roles_of(endpoint)
        if not allowed:
            return False
        return bool(current_user.is_authenticated and current_user.role in allowed)

    def merge_args(**changes) -> dict:
        # The query string with some keys replaced (None drops one): links keep the filters.
        args = request.args.to_dict()
        for key, value in changes.items():
            if value is None:
                args.pop(key, None)
            else:
                args[key] = value
        return args

    from app.admin.audit_words import readable_entries
    from app.domain.words import plural
    from app.models.audit import readable_value

    app.jinja_env.filters["audit_value"] = readable_value
    app.jinja_env.filters["plural"] = plural
    app.jinja_env.filters["readable_audit"] = readable_entries
    app.jinja_env.globals.update(
        can=can,
        Role=Role,
        has_endpoint=has_endpoint,
        endpoint_allowed=endpoint_allowed,
        merge_args=merge_args,
    )


def register_commands(app: Flask) -> None:
    from app.cli import register_cli

    register_cli(app)
