"""Driving a single sign-on through the loopback provider with the test client and requests."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import requests

from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, PASSWORD, LoopbackProvider


@contextlib.contextmanager
def configured_for(app, provider: LoopbackProvider) -> Iterator[LoopbackProvider]:
    """Frontline configured for the loopback provider (plain http on loopback only)."""
    settings = {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_PROVIDER_NAME": "Loopback ID",
        "OIDC_ROLE_MAP": "security-team=security,managers=manager,it-admins=admin",
        "OIDC_DEFAULT_ROLE": "",
    }
    previous = {name: app.config.get(name) for name in settings}
    insecure = os.environ.get("AUTHLIB_INSECURE_TRANSPORT")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    app.config.update(settings)
    provider.reset()
    try:
        yield provider
    finally:
        app.config.update(previous)
        if insecure is None:
            os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)


def start(client) -> str:
    """Press "Sign in with ..."; the provider's authorization address Frontline sends to."""
    response = client.get("/login/sso")
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def provider_login(authorize_url: str, username: str, password: str = PASSWORD) -> str:
    """Sign in at the provider; the callback address it sends the browser back to."""
    response = requests.post(
        authorize_url,
        data={"username": username, "password": password},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def callback(client, location: str):
    parts = urlsplit(location)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in_sso(client, username: str):
    return callback(client, provider_login(start(client), username))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
