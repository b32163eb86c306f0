from __future__ import annotations

import pytest

from tests.auth.sso_helpers import configured_for
from tests.oidc_provider import LoopbackProvider


@pytest.fixture(scope="session")
def oidc_provider():
    provider = LoopbackProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def sso(app, oidc_provider):
    with configured_for(app, oidc_provider) as provider:
        yield provider
