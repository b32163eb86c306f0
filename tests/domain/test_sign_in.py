"""Enterprise sign-in rules as plain functions: group mapping, one-time steps, break-glass."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.sign_in import (
    RoleMapError,
    accepted_step,
    groups_of,
    parse_email_list,
    parse_role_map,
    password_sign_in_allowed,
    role_for_groups,
)


def test_role_map_reads_group_role_pairs():
    assert parse_role_map(" security-team=security, managers=Manager ,") == {
        "security-team": "security",
        "managers": "manager",
    }
    # A group name may itself hold "=": the role is after the last one.
    assert parse_role_map("cn=it-admins=admin") == {"cn=it-admins": "admin"}
    assert parse_role_map("") == {} and parse_role_map(None) == {}


@pytest.mark.parametrize("text", ["admins", "=admin", "team=superuser", "team="])
def test_role_map_refuses_what_it_cannot_read(text):
    with pytest.raises(RoleMapError):
        parse_role_map(text)


def test_the_most_capable_mapped_role_wins_and_the_default_covers_the_rest():
    mapping = {"sec": "security", "mgr": "manager", "it": "admin"}
    assert role_for_groups(["mgr", "sec"], mapping, None) == "security"
    assert role_for_groups(["it", "mgr"], mapping, "viewer") == "admin"
    assert role_for_groups(["other"], mapping, "viewer") == "viewer"
    assert role_for_groups(["other"], mapping, None) is None
    assert role_for_groups([], mapping, "superuser") is None


def test_groups_claim_in_the_shapes_providers_send():
    assert groups_of(["a", "b", 3, None, {"x": 1}]) == ["a", "b", "3"]
    assert groups_of("a, b c") == ["a", "b", "c"]
    assert groups_of(None) == [] and groups_of({"a": 1}) == []


def test_a_step_is_accepted_once_and_never_an_older_one():
    assert accepted_step([9, 10, 11], [10], None) == 10
    assert accepted_step([9, 10, 11], [10], 10) is None
    assert accepted_step([9, 10, 11], [9], 10) is None
    assert accepted_step([9, 10, 11], [11], 10) == 11
    assert accepted_step([9, 10, 11], [], None) is None


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 50), max_size=5),
    st.one_of(st.none(), st.integers(0, 50)),
)
def test_an_accepted_step_always_matches_and_is_later_than_the_last(matching, last):
    candidates = [20, 21, 22]
    step = accepted_step(candidates, matching, last)
    if step is not None:
        assert step in candidates and step in matching
        assert last is None or step > last
    else:
        assert not [s for s in candidates if s in matching and (last is None or s > last)]


def test_with_password_sign_in_off_only_break_glass_administrators_use_one():
    glass = parse_email_list(" Root@Corp.example , ")
    assert glass == frozenset({"root@corp.example"})
    assert password_sign_in_allowed("anyone@corp.example", False, True, frozenset())
    assert password_sign_in_allowed("root@corp.example", True, False, glass)
    assert not password_sign_in_allowed("root@corp.example", False, False, glass)
    assert not password_sign_in_allowed("other@corp.example", True, False, glass)
