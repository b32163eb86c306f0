"""Single sign-on through an OpenID Connect provider (Authlib's Flask client).

The provider is found from OIDC_ISSUER (its discovery document); the sign-in is the
authorization code flow with PKCE (S256), and Authlib checks the state, the nonce and the
ID token's signature (the provider's JWKS), issuer, audience and expiry. What comes back
is then matched here to an account by the provider's issuer and subject (bound at the first
sign-in; by verified email only while no account is bound), or makes one, with the role the
person's groups give.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
from authlib.integrations.flask_client import OAuth  # type: ignore[import-untyped]
from flask import Flask, current_app
from joserfc.errors import JoseError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from app.auth import events
from app.auth.service import change_role, is_locked
from app.domain.sign_in import groups_of, parse_role_map, role_for_groups
from app.extensions import db
from app.models.base import utcnow
from app.models.sso_identity import SsoIdentity
from app.models.user import Role, User, normalise_email

CLIENT_NAME = "frontline_oidc"
# Where Authlib keeps a sign-in's state, nonce and PKCE verifier in the session.
STATE_PREFIX = f"_state_{CLIENT_NAME}_"
_SETTINGS = ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_SCOPES")


class SsoRefusedError(Exception):
    """The provider's answer does not sign anybody in; ``str()`` is what the person reads."""

    def __init__(self, message: str, reason: str, email: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.email = email


@dataclass(frozen=True)
class ProviderAnswer:
    claims: dict[str, Any]
    id_token: str


def configured(app: Flask | None = None) -> bool:
    config = (app or current_app).config
    return all(config.get(name) for name in ("OIDC_ISSUER", "OIDC_CLIENT_ID"))


def provider_name() -> str:
    return str(current_app.config.get("OIDC_PROVIDER_NAME") or "single sign-on")


def client():
    """The Authlib client for the configured provider, made again when the settings change."""
    app = current_app._get_current_object()
    settings = tuple(str(app.config.get(name) or "") for name in _SETTINGS)
    cached = app.extensions.get("frontline_oidc")
    if cached is not None and cached[0] == settings:
        return cached[1]
    issuer, client_id, client_secret, scopes = settings
    oauth = OAuth()
    oauth.app = app  # not init_app: nothing else of the app's is changed
    remote = oauth.register(
        CLIENT_NAME,
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": scopes, "code_challenge_method": "S256", "default_timeout": 10},
    )
    app.extensions["frontline_oidc"] = (settings, remote)
    return remote


def begin(callback_url: str):
    """The redirect to the provider's authorization endpoint (state, nonce, PKCE kept in
    the session), or a refusal when the provider cannot be reached."""
    try:
        return client().authorize_redirect(callback_url)
    except (AuthlibBaseError, requests.RequestException, ValueError, KeyError) as error:
        current_app.logger.warning("OpenID Connect discovery failed: %r", error)
        raise SsoRefusedError(
            "The identity provider could not be reached. Try again later, or tell an "
            "administrator if it keeps happening.",
            f"provider unreachable: {type(error).__name__}",
        ) from error


def answer_from_callback() -> ProviderAnswer:
    """Finish the authorization code flow for this callback request, or refuse."""
    try:
        token = client().authorize_access_token()
    except AuthlibBaseError as error:
        # Wrong or replayed state, an error from the provider, a code it refuses, a claim
        # that fails (nonce, issuer, audience, expiry).
        reason = getattr(error, "error", None) or type(error).__name__
        raise SsoRefusedError(
            "The sign-in could not be completed: the answer from the identity provider "
            "was not valid for this sign-in. Start again from the sign-in page.",
            f"protocol: {reason}",
        ) from error
    except JoseError as error:
        raise SsoRefusedError(
            "The identity provider's ID token could not be verified (signature or "
            "claims). Nobody was signed in.",
            f"ID token: {type(error).__name__}",
        ) from error
    except (requests.RequestException, ValueError) as error:
        raise SsoRefusedError(
            "The identity provider could not be reached or gave an unreadable answer. "
            "Try again later.",
            f"provider unreachable: {type(error).__name__}",
        ) from error
    claims = token.get("userinfo")
    if not claims or not token.get("id_token"):
        raise SsoRefusedError(
            "The identity provider sent no ID token. Nobody was signed in.", "no ID token"
        )
    return ProviderAnswer(claims=dict(claims), id_token=str(token["id_token"]))


def _verified(claims: dict[str, Any]) -> bool:
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _subject_of(claims: dict[str, Any]) -> tuple[str, str]:
    """The issuer and subject (``sub``) the ID token names: who the person is there."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SsoRefusedError(
            "The identity provider did not say who you are (no usable subject in the ID "
            "token). Nobody was signed in.",
            "no subject",
        )
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        issuer = str(current_app.config["OIDC_ISSUER"])
    return issuer[:512], subject


def _verified_email(claims: dict[str, Any]) -> str:
    raw_email = claims.get("email")
    if not isinstance(raw_email, str) or "@" not in raw_email:
        raise SsoRefusedError(
            "Your identity provider did not share an email address, which Frontline needs "
            "to know who you are. Ask its administrator to release the email claim.",
            "no email",
        )
    email = normalise_email(raw_email)[:254]
    if not _verified(claims):
        raise SsoRefusedError(
            "Your identity provider does not vouch for your email address (it is not "
            "verified), so it cannot sign you in to Frontline.",
            "email not verified",
            email,
        )
    return email


def _bound_identity(issuer: str, subject: str) -> SsoIdentity | None:
    return db.session.scalar(
        select(SsoIdentity).where(SsoIdentity.issuer == issuer, SsoIdentity.subject == subject)
    )


def user_for(claims: dict[str, Any]) -> User:
    """The account these verified claims sign in, with the role the groups give re-applied.

    The provider's subject decides: an account bound to it at an earlier sign-in is the
    one, whatever the email says now. Only when no account is bound to this subject is the
    verified email matched, and an account already bound to another subject of the same
    provider is refused (an email address reused there must not open someone else's
    account). A new person gets an account bound to their subject. Everything is checked
    before anything is written, so a refusal leaves nothing behind.
    """
    issuer, subject = _subject_of(claims)
    identity = _bound_identity(issuer, subject)
    user, email = _account_and_email(claims, identity, issuer)
    role = _role_from_groups(claims, email)
    _refuse_unusable(user, email)
    if user is None:
        assert email is not None
        user = _new_account(claims, email, role)
    else:
        if user.role != role:
            change_role(
                user, role, event="sso-role-change", why=" by the identity provider's groups"
            )
        if identity is not None and email and email != user.email:
            _follow_email_change(user, email)
    if identity is None:
        _bind(user, issuer, subject, email)
    user.last_login_at = utcnow()
    return user


def _account_and_email(
    claims: dict[str, Any], identity: SsoIdentity | None, issuer: str
) -> tuple[User | None, str | None]:
    """The account the claims name (None for a new person) and the email to keep."""
    if identity is not None:
        # Bound: the email may have changed (or be missing) at the provider.
        user = identity.user
        email: str | None = user.email
        if isinstance(claims.get("email"), str) and _verified(claims):
            email = normalise_email(claims["email"])[:254]
        return user, email
    email = _verified_email(claims)
    found = db.session.scalar(select(User).where(User.email == email))
    if found is not None:
        bound = db.session.scalar(
            select(SsoIdentity.subject).where(
                SsoIdentity.user_id == found.id, SsoIdentity.issuer == issuer
            )
        )
        if bound is not None:
            raise SsoRefusedError(
                f"The Frontline account {email} belongs to another {provider_name()} "
                "account than the one you signed in with. Nothing was changed; ask an "
                "administrator if your account at the identity provider was replaced.",
                "account bound to another subject",
                email,
            )
    return found, email


def _role_from_groups(claims: dict[str, Any], email: str | None) -> Role:
    """The role the provider's groups give, or a refusal when none maps to one."""
    config = current_app.config
    role_name = role_for_groups(
        groups_of(claims.get(config["OIDC_GROUPS_CLAIM"] or "groups")),
        parse_role_map(config["OIDC_ROLE_MAP"]),
        (config["OIDC_DEFAULT_ROLE"] or "").strip().lower() or None,
    )
    if role_name is None:
        raise SsoRefusedError(
            "None of your groups at the identity provider gives access to Frontline. "
            "Ask an administrator to add you to one.",
            "no mapped group",
            email,
        )
    return Role(role_name)


def _refuse_unusable(user: User | None, email: str | None) -> None:
    """A deactivated or locked account stays shut, whatever the provider says."""
    if user is not None and not user.is_active_account:
        raise SsoRefusedError(
            "This account is deactivated in Frontline.", "deactivated account", email
        )
    if user is not None and is_locked(user):
        raise SsoRefusedError(
            "This account is locked after too many failed sign-ins. Try again later, or "
            "ask an administrator to unlock it.",
            "account locked",
            email,
        )


def _new_account(claims: dict[str, Any], email: str, role: Role) -> User:
    name = claims.get("name") or claims.get("preferred_username") or email
    user = User(
        email=email,
        name=str(name)[:120],
        role=role,
        # Never usable: nobody knows it; password sign-in is for accounts given one.
        password_hash=generate_password_hash(secrets.token_urlsafe(32)),
    )
    db.session.add(user)
    _flush_or_refuse(email)
    return user


def _bind(user: User, issuer: str, subject: str, email: str | None) -> None:
    """Bind the account to the provider's subject, for every later sign-in."""
    db.session.add(SsoIdentity(user_id=user.id, issuer=issuer, subject=subject))
    events.record_by_account(
        "sso-bind",
        user,
        f"{user.email} bound to the identity-provider account {subject}",
        details={"issuer": issuer, "subject": subject},
    )
    _flush_or_refuse(email)


def _flush_or_refuse(email: str | None) -> None:
    # Two first sign-ins of the same person at once: the unique email or (issuer, subject)
    # lets one through; the other is refused rather than failing (the caller rolls back).
    try:
        db.session.flush()
    except IntegrityError as error:
        raise SsoRefusedError(
            "Another sign-in of this account was being completed at the same moment. "
            "Start again from the sign-in page.",
            "concurrent first sign-in",
            email,
        ) from error


def _follow_email_change(user: User, email: str) -> None:
    """The provider now vouches for another address: take it, unless another account
    here has it (then the account keeps its address; the subject still signs it in)."""
    taken = db.session.scalar(select(User.id).where(User.email == email, User.id != user.id))
    if taken is None:
        user.email = email  # recorded by the audit of account changes (old and new)


def unbind(user: User) -> bool:
    """An administrator frees an account from its provider account (replaced there): the
    next single sign-on with its verified email binds it again. False when not bound."""
    bound = list(db.session.scalars(select(SsoIdentity).where(SsoIdentity.user_id == user.id)))
    if not bound:
        return False
    for identity in bound:
        db.session.delete(identity)
    events.record(
        "sso-unbind",
        user,
        f"{user.email} unbound from its identity-provider account "
        + ", ".join(identity.subject for identity in bound),
        old={"subjects": [[i.issuer, i.subject] for i in bound]},
    )
    return True


def record_refusal(error: SsoRefusedError) -> None:
    who = error.email or "an unknown person"
    events.record(
        "sso-refused",
        None,
        f"Single sign-on refused for {events.attempted_email(who)}: {error.reason}",
        details={"reason": error.reason, "email": error.email},
    )


def logout_url(id_token: str | None, after: str) -> str | None:
    """The provider's end-session address, when its discovery document offers one."""
    try:
        metadata = client().load_server_metadata()
    except (AuthlibBaseError, requests.RequestException, ValueError):
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    return client().create_logout_url(
        post_logout_redirect_uri=after,
        id_token_hint=id_token,
        client_id=current_app.config["OIDC_CLIENT_ID"],
    )["url"]
