"""Settings read from the environment; one class per way of running the app."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("FRONTLINE_INSTANCE", BASE_DIR / "instance"))


def _development_secret_key() -> str:
    # Kept on disk so sessions survive a restart of the development server.
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'frontline.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    FISCAL_YEAR_START_MONTH = _int_env("FISCAL_YEAR_START_MONTH", 7)
    # Pins "today" (ISO date) for reviewing a past quarter as it was, e.g. the demo.
    FRONTLINE_TODAY = os.environ.get("FRONTLINE_TODAY") or None
    ITEMS_PER_PAGE = 25
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    BOOTSTRAP_SERVE_LOCAL = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # Failed API token authentications allowed per client address.
    TOKEN_FAILURE_LIMIT = os.environ.get("TOKEN_FAILURE_LIMIT", "20 per minute")
    # Failed sign-ins in a row (from any address) that lock an account, for
    # LOCKOUT_SECONDS at first, doubling with each further failure up to LOCKOUT_MAX_SECONDS.
    LOCKOUT_THRESHOLD = _int_env("LOCKOUT_THRESHOLD", 10)
    LOCKOUT_SECONDS = _int_env("LOCKOUT_SECONDS", 60)
    LOCKOUT_MAX_SECONDS = _int_env("LOCKOUT_MAX_SECONDS", 3600)
    # A session unused this long ends (sign-ins without "keep me signed in").
    SESSION_IDLE_MINUTES = _int_env("SESSION_IDLE_MINUTES", 8 * 60)
    # "Keep me signed in" lasts this long from sign-in; no session lives longer.
    REMEMBER_ME_DAYS = _int_env("REMEMBER_ME_DAYS", 30)
    # Proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed (0: none).
    TRUSTED_PROXIES = _int_env("TRUSTED_PROXIES", 0)
    FORCE_HTTPS = False
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    # Reminders: SMTP for the digests, the address their links point to.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _int_env("MAIL_PORT", 25)
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0").lower() in ("1", "true", "yes")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "frontline@localhost")
    FRONTLINE_BASE_URL = os.environ.get("FRONTLINE_BASE_URL", "http://localhost:5000")
    # Single sign-on through OpenID Connect: on when the issuer and client are set. The
    # provider's discovery document (ISSUER/.well-known/openid-configuration) gives the rest.
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "")
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
    OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "single sign-on")
    OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")
    # group=role pairs; the most capable role of a person's mapped groups wins.
    OIDC_ROLE_MAP = os.environ.get("OIDC_ROLE_MAP", "")
    OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
    # Role of a person in none of the mapped groups; empty: such a person is refused.
    OIDC_DEFAULT_ROLE = os.environ.get("OIDC_DEFAULT_ROLE", "")
    # 0: only the break-glass administrators (emails, comma-separated) sign in with a password.
    PASSWORD_SIGN_IN = os.environ.get("PASSWORD_SIGN_IN", "1").lower() not in ("0", "false", "no")
    BREAK_GLASS_ADMINS = os.environ.get("BREAK_GLASS_ADMINS", "")
    # The name authenticator apps show next to the account.
    MFA_ISSUER_NAME = os.environ.get("MFA_ISSUER_NAME", "Frontline")


class DevelopmentConfig(Config):
    FRONTLINE_ENV = "development"

    @property
    def SECRET_KEY(self) -> str:  # noqa: N802 - Flask reads the upper-case name
        return os.environ.get("SECRET_KEY") or _development_secret_key()


class ProductionConfig(Config):
    FRONTLINE_ENV = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    FORCE_HTTPS = os.environ.get("FORCE_HTTPS", "1") == "1"

    @property
    def SECRET_KEY(self) -> str:  # noqa: N802
        key = os.environ.get("SECRET_KEY")
        if not key:
            raise RuntimeError("SECRET_KEY must be set in the environment in production.")
        return key


class TestConfig(Config):
    FRONTLINE_ENV = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    WTF_CSRF_ENABLED = False
    # Limiter on, with a limit tests reach only when they lower it on purpose.
    LOGIN_RATE_LIMIT = "100000 per minute"
    TOKEN_FAILURE_LIMIT = "100000 per minute"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestConfig,
}


def config_for(name: str | None):
    name = name or os.environ.get("FRONTLINE_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(
            f"Unknown FRONTLINE_ENV {name!r}; use one of {sorted(CONFIGS)}"
        ) from None
