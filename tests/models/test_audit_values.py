from app.models.audit import readable_value


def test_enum_names_read_as_their_labels():
    assert readable_value("ACTIVE_HIRING") == "Active hiring"
    assert readable_value("IN_TREATMENT") == "In treatment"
    assert readable_value("THREAT_INTEL") == "Threat-intelligence feed"


def test_other_values_read_plainly():
    assert readable_value(None) == "—"
    assert readable_value(True) == "yes"
    assert readable_value(["13", "3"]) == "13, 3"
    assert readable_value([]) == "none"
    assert readable_value("Swift media storage") == "Swift media storage"
    assert readable_value(4) == "4"


def test_audit_page_shows_labels(client_as, users):
    from app.models.user import Role

    admin = client_as(Role.ADMIN)
    viewer = users[Role.VIEWER]
    admin.post(
        f"/admin/users/{viewer.id}/edit",
        data={
            "email": viewer.email,
            "name": viewer.name,
            "role": "manager",
            "is_active_account": "y",
        },
    )
    page = admin.get("/admin/audit?entity=User").get_data(as_text=True)
    assert "Leadership (read only)" in page and "Manager" in page
