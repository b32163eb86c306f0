"""The user rules the admin pages and the command line share."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.admin import service
from app.extensions import db
from app.models.api_token import ApiToken
from app.models.user import Role, User
from app.validation import InputError


def _count_users() -> int:
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def _refusal(call, *args, **kwargs) -> dict[str, str]:
    with pytest.raises(InputError) as refused:
        call(*args, **kwargs)
    db.session.rollback()
    return refused.value.errors


def test_create_user_stores_the_address_as_it_is_compared(users):
    created = service.create_user(
        email="  New.Person@Test.Example ",
        name="  New Person ",
        role=Role.SECURITY,
        password="long-enough-pw",
    )
    db.session.commit()
    assert (created.email, created.name, created.role) == (
        "new.person@test.example",
        "New Person",
        Role.SECURITY,
    )
    assert created.is_active_account and created.check_password("long-enough-pw")


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter an email address."),
        ("a@b", "Enter a valid email address."),
        ("no-at-sign.example", "Enter a valid email address."),
        ("two@@test.example", "Enter a valid email address."),
        ("VIEWER@test.example", "A user with that email already exists."),
    ],
)
def test_create_user_refuses_a_bad_or_taken_address(users, email, message):
    before = _count_users()
    errors = _refusal(
        service.create_user, email=email, name="X", role=Role.VIEWER, password="long-enough-pw"
    )
    assert errors == {"email": message}
    assert _count_users() == before


def test_create_user_needs_a_password_of_the_allowed_length(users):
    assert _refusal(
        service.create_user, email="p@test.example", name="P", role=Role.VIEWER, password=""
    ) == {"password": "Set a first password for the new user."}
    assert "password" in _refusal(
        service.create_user, email="p@test.example", name="P", role=Role.VIEWER, password="short"
    )


def test_an_administrator_cannot_remove_their_own_access(users):
    admin = users[Role.ADMIN]
    for role, active in ((Role.MANAGER, True), (Role.ADMIN, False)):
        errors = _refusal(
            service.update_user,
            admin,
            email=admin.email,
            name=admin.name,
            role=role,
            active=active,
            password=None,
            acting_user_id=admin.id,
        )
        assert errors == {"role": "You cannot remove your own administrator access."}
    assert db.session.get(User, admin.id).role == Role.ADMIN


def test_update_user_keeps_its_own_address_and_refuses_another_users(users):
    viewer, admin = users[Role.VIEWER], users[Role.ADMIN]
    service.update_user(
        viewer,
        email=viewer.email.upper(),
        name="Renamed",
        role=Role.MANAGER,
        active=True,
        password=None,
        acting_user_id=admin.id,
    )
    db.session.commit()
    assert (viewer.name, viewer.role) == ("Renamed", Role.MANAGER)
    errors = _refusal(
        service.update_user,
        viewer,
        email=admin.email,
        name="Renamed",
        role=Role.MANAGER,
        active=True,
        password=None,
        acting_user_id=admin.id,
    )
    assert errors == {"email": "A user with that email already exists."}


def test_a_password_reset_revokes_the_users_api_tokens(users):
    from app.auth.tokens import create_token

    viewer, admin = users[Role.VIEWER], users[Role.ADMIN]
    token, _secret = create_token(viewer, "script", None)
    db.session.commit()
    service.update_user(
        viewer,
        email=viewer.email,
        name=viewer.name,
        role=viewer.role,
        active=True,
        password="a-new-long-password",
        acting_user_id=admin.id,
    )
    db.session.commit()
    assert viewer.check_password("a-new-long-password")
    assert db.session.get(ApiToken, token.id).revoked_at is not None


def test_deactivate_user_refuses_oneself_and_revokes_anothers_tokens(users):
    from app.auth.tokens import create_token

    viewer, admin = users[Role.VIEWER], users[Role.ADMIN]
    assert _refusal(service.deactivate_user, admin, admin.id) == {
        "_": "You cannot deactivate your own account."
    }
    token, _secret = create_token(viewer, "script", None)
    service.deactivate_user(viewer, admin.id)
    db.session.commit()
    assert not viewer.is_active_account
    assert db.session.get(ApiToken, token.id).revoked_at is not None


def test_the_command_line_refuses_the_address_the_pages_refuse(runner, users):
    before = _count_users()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "a@b",
            "--name",
            "A",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        input="a-long-password\n",
    )
    assert result.exit_code != 0
    assert "Enter a valid email address." in result.output
    assert _count_users() == before
