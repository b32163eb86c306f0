"""Rules of enterprise sign-in as plain functions: the provider's groups to a role, which
one-time code is still good, and who may still use a password."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Highest first: a person in several mapped groups gets the most capable of their roles.
ROLE_ORDER = ("admin", "security", "manager", "viewer")


class RoleMapError(ValueError):
    """OIDC_ROLE_MAP is not a list of group=role pairs naming known roles."""


def parse_role_map(text: str | None) -> dict[str, str]:
    """``"security-team=security,managers=manager"`` -> ``{group: role}``."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        group, sep, role = part.rpartition("=")
        group, role = group.strip(), role.strip().lower()
        if not sep or not group or role not in ROLE_ORDER:
            raise RoleMapError(
                f"OIDC_ROLE_MAP entry {part!r}: write group=role with a role among "
                f"{', '.join(ROLE_ORDER)}."
            )
        mapping[group] = role
    return mapping


def groups_of(claim: object) -> list[str]:
    """The groups claim as a list of names, whatever shape the provider sends."""
    if isinstance(claim, str):
        return [g.strip() for g in claim.replace(",", " ").split() if g.strip()]
    if isinstance(claim, list | tuple):
        return [str(g) for g in claim if isinstance(g, str | int)]
    return []


def role_for_groups(
    groups: Iterable[str], role_map: Mapping[str, str], default_role: str | None
) -> str | None:
    """The role these groups give, the default when none is mapped, or None (refuse)."""
    found = {role_map[g] for g in groups if g in role_map}
    for role in ROLE_ORDER:
        if role in found:
            return role
    return default_role if default_role in ROLE_ORDER else None


def accepted_step(
    candidates: Iterable[int], matching: Iterable[int], last_used: int | None
) -> int | None:
    """The time step a code is accepted for: one that matches, among the steps tried
    (now and one either side for clock drift), and later than the last accepted one, so
    the same code, or an older one, is never accepted twice."""
    good = set(matching)
    for step in sorted(candidates, reverse=True):
        if step in good and (last_used is None or step > last_used):
            return step
    return None


def parse_email_list(text: str | None) -> frozenset[str]:
    return frozenset(e.strip().lower() for e in (text or "").split(",") if e.strip())


def password_sign_in_allowed(
    email: str, is_admin: bool, password_sign_in: bool, break_glass: frozenset[str]
) -> bool:
    """With password sign-in off, only the named break-glass administrators use one."""
    if password_sign_in:
        return True
    return is_admin and email.strip().lower() in break_glass
