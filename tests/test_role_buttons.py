"""Each role sees the write buttons it may use, and no other."""

from __future__ import annotations

import pytest

from app.models.user import Role

# page -> {button text: the roles (besides admin) that see it}
BUTTONS = {
    "/threats": {
        "Log a threat": {Role.SECURITY},
        "Import CSV": {Role.SECURITY},
        "Export all (CSV)": set(Role),
        "Threat-intel feeds": set(Role),
    },
    "/countermeasures": {
        "New countermeasure": {Role.SECURITY},
        "Import CSV": {Role.SECURITY},
        "Export all (CSV)": set(Role),
    },
    "/systems": {
        "New system": {Role.MANAGER},
        "Import CSV": {Role.MANAGER},
        "Export all (CSV)": set(Role),
    },
    "/staff": {
        "New staff member": {Role.MANAGER},
        "Import responsibilities": {Role.MANAGER},
        "Import CSV": {Role.MANAGER},
        "Export all (CSV)": set(Role),
    },
    "/positions": {"New position": {Role.MANAGER}},
    "/okrs": {"New objective": {Role.MANAGER}},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", list(BUTTONS))
def test_write_buttons_follow_the_role(client_as, role, path):
    html = client_as(role).get(path).get_data(as_text=True)
    for label, roles in BUTTONS[path].items():
        shown = role in roles or role == Role.ADMIN
        assert (f">{label}</a>" in html) == shown, (path, label, role)


@pytest.mark.parametrize("entity", ["threats", "countermeasures", "systems", "staff"])
def test_the_list_export_link_gives_a_csv_to_a_viewer(client_as, entity):
    response = client_as(Role.VIEWER).get(f"/export/{entity}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
