"""A real OpenID Connect provider on loopback, built from Authlib's server components.

Authorization code flow with PKCE (S256), RS256 ID tokens signed with a key made per test
run, a discovery document, a JWKS endpoint, a login form and an end-session endpoint.
Tests change ``people`` (e.g. someone's groups) and the ``misbehave`` switches (an expired
or wrongly signed ID token) to see how Frontline answers.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749 import ClientMixin, grants  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import CodeChallenge  # type: ignore[import-untyped]
from authlib.oidc.core import UserInfo  # type: ignore[import-untyped]
from authlib.oidc.core.grants import OpenIDCode  # type: ignore[import-untyped]
from authlib.oidc.core.models import AuthorizationCodeMixin  # type: ignore[import-untyped]
from flask import Flask, redirect, render_template_string, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import BaseWSGIServer, make_server

CLIENT_ID = "frontline"
CLIENT_SECRET = "frontline-test-secret"
PASSWORD = "provider-password"
KID = "loopback-key"

LOGIN_FORM = """<!doctype html><title>Loopback identity provider</title>
<h1>Loopback identity provider</h1>
{% if error %}<p id="error">{{ error }}</p>{% endif %}
<form method="post">
  <label>Username <input name="username" id="username"></label>
  <label>Password <input name="password" id="password" type="password"></label>
  <button type="submit" id="provider-sign-in">Sign in</button>
</form>"""


@dataclass
class Person:
    username: str
    email: str | None
    name: str
    groups: list[str]
    email_verified: bool = True


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        allowed = {"openid", "email", "profile"}
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        # Frontline's callback on whichever loopback address the test serves it from.
        return redirect_uri.endswith("/login/sso/callback") and (
            redirect_uri.startswith("http://localhost/")
            or redirect_uri.startswith("http://127.0.0.1:")
        )

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class LoopbackProvider:
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig"})
        # Same key id, another key: a token it signs must fail the signature check.
        self.wrong_key = RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig"})
        self.people: dict[str, Person] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.used_codes: list[str] = []
        self.tokens: list[dict[str, Any]] = []
        self.ended_sessions: list[str | None] = []
        self.misbehave: dict[str, bool] = {"expired_id_token": False, "wrong_key": False}
        self.client = Client(CLIENT_ID, CLIENT_SECRET)
        self.issuer = ""
        self.app = self._make_app()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # --- the OAuth 2 / OpenID Connect parts ------------------------------------------

    def _make_app(self) -> Flask:
        provider = self
        app = Flask("loopback_provider")
        app.secret_key = secrets.token_hex(16)

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, request):
                payload = request.payload
                provider.codes[code] = AuthorizationCode(
                    code=code,
                    client_id=request.client.get_client_id(),
                    redirect_uri=payload.redirect_uri,
                    scope=payload.scope,
                    username=request.user.username,
                    nonce=payload.data.get("nonce"),
                    code_challenge=payload.data.get("code_challenge"),
                    code_challenge_method=payload.data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code, client):
                item = provider.codes.get(code)
                if item and item.client_id == client.get_client_id():
                    return item
                return None

            def delete_authorization_code(self, authorization_code):
                # One use only: a replayed code is refused by the token endpoint.
                provider.codes.pop(authorization_code.code, None)
                provider.used_codes.append(authorization_code.code)

            def authenticate_user(self, authorization_code):
                return provider.people.get(authorization_code.username)

        class IdTokens(OpenIDCode):
            def exists_nonce(self, nonce, request):
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client):
                return provider.wrong_key if provider.misbehave["wrong_key"] else provider.key

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": KID}

            def get_client_claims(self, client):
                now = int(time.time())
                claims: dict[str, Any] = {"iss": provider.issuer, "aud": [CLIENT_ID]}
                if provider.misbehave["expired_id_token"]:
                    # Well past any clock leeway a client allows.
                    claims.update(iat=now - 3600, exp=now - 1800)
                return claims

            def generate_user_info(self, user, scope):
                info = UserInfo(sub=user.username, name=user.name, groups=list(user.groups))
                if user.email is not None:
                    info["email"] = user.email
                    info["email_verified"] = user.email_verified
                return info

        def query_client(client_id):
            return provider.client if client_id == CLIENT_ID else None

        def save_token(token, request):
            provider.tokens.append(dict(token))

        server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
        server.register_grant(
            CodeGrant, [IdTokens(require_nonce=True), CodeChallenge(required=True)]
        )

        @app.get("/.well-known/openid-configuration")
        def discovery():
            base = provider.issuer
            return {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks",
                "end_session_endpoint": f"{base}/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": ["sub", "email", "email_verified", "name", "groups"],
            }

        @app.get("/jwks")
        def jwks():
            return KeySet([provider.key]).as_dict(private=False)

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize():
            if request.method == "GET":
                server.get_consent_grant(end_user=None)  # refuses a malformed request
                return render_template_string(LOGIN_FORM, error=None)
            person = provider.people.get(request.form.get("username", ""))
            if person is None or request.form.get("password") != PASSWORD:
                return render_template_string(LOGIN_FORM, error="Wrong username or password")
            return server.create_authorization_response(grant_user=person)

        @app.post("/token")
        def token():
            return server.create_token_response()

        @app.get("/logout")
        def logout():
            provider.ended_sessions.append(request.args.get("id_token_hint"))
            after = request.args.get("post_logout_redirect_uri")
            if after:
                state = request.args.get("state")
                return redirect(after + ("?" + urlencode({"state": state}) if state else ""))
            return "Signed out of the provider"

        return app

    # --- running it ------------------------------------------------------------------

    def start(self) -> LoopbackProvider:
        server = self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{server.server_port}"
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()

    def reset(self) -> None:
        self.people.clear()
        self.codes.clear()
        self.used_codes.clear()
        self.tokens.clear()
        self.ended_sessions.clear()
        for name in self.misbehave:
            self.misbehave[name] = False

    def add(self, username: str, email: str | None, groups: list[str], **extra) -> Person:
        person = Person(username, email, extra.pop("name", username.title()), groups, **extra)
        self.people[username] = person
        return person
