from __future__ import annotations

import pytest

from app.auth.tokens import create_token
from app.extensions import db
from app.models.user import Role


@pytest.fixture
def token_of(users):
    """``token_of(Role.SECURITY)`` -> a fresh bearer token for that role's test user."""

    def make(role: Role, **kwargs) -> str:
        _, secret = create_token(users[role], kwargs.pop("name", "test"), **kwargs)
        db.session.commit()
        return secret

    return make


@pytest.fixture
def api_get(client, token_of):
    """``api_get(url)`` as a viewer with a bearer token."""
    secret = token_of(Role.VIEWER)

    def get(url, headers=None, **kwargs):
        headers = {"Authorization": f"Bearer {secret}", **(headers or {})}
        return client.get(url, headers=headers, **kwargs)

    return get
