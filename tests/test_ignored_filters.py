"""List pages say which filter values they did not understand instead of ignoring them."""

from __future__ import annotations

import re

import pytest

from app.models.user import Role


def notices(text: str) -> list[str]:
    return re.findall(r'data-testid="ignored-filter">([^<]+)<', text)


@pytest.mark.parametrize(
    "url, named",
    [
        ("/threats?status=opened", ["opened"]),
        ("/threats?level=extreme&sort=colour", ["extreme", "colour"]),
        ("/threats?owner=abc&top=999", ["abc", "999"]),
        ("/systems?criticality=extreme", ["extreme"]),
        ("/systems?show=gone&sort=-size", ["gone", "-size"]),
        ("/staff?status=fired", ["fired"]),
    ],
)
def test_a_filter_value_not_understood_is_named_on_the_page(client_as, url, named):
    response = client_as(Role.VIEWER).get(url)
    assert response.status_code == 200
    shown = notices(response.text)
    assert len(shown) == len(named)
    for value, notice in zip(named, shown, strict=True):
        assert value in notice and "ignored" in notice


@pytest.mark.parametrize(
    "url",
    [
        "/threats?status=identified&level=high&sort=-residual&owner=1&top=2&status=",
        "/threats?category=&level=",
        "/systems?criticality=HIGH&show=all&sort=-people&state=spof",
        "/staff?status=all&sort=-sole&sole=yes",
    ],
)
def test_understood_values_raise_no_notice(client_as, url):
    assert notices(client_as(Role.VIEWER).get(url).text) == []
