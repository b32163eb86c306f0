"""Domain tests are plain functions over plain values: no app, no database."""

import pytest


@pytest.fixture(autouse=True)
def app_context():
    yield
