"""The rules for the people who sign in, one place for the admin pages and the command line.

Each function checks its input (InputError, a message per field) and changes the session
without committing: the caller commits or rolls back. Sessions, API tokens and the audit
of sign-in events are the sign-in area's (``app.auth.service``).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from app.auth import service as auth_service
from app.extensions import db
from app.models.user import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, Role, User, normalise_email
from app.validation import InputError, control_character_message

EMAIL_MAX = 254
NAME_MAX = 120


def checked_email(email: str | None, user_id: int | None = None) -> str:
    """The address as stored (trimmed, lower case): a valid address no other user has."""
    address = normalise_email(email or "")
    if not address:
        raise InputError({"email": "Enter an email address."})
    if len(address) > EMAIL_MAX:
        raise InputError({"email": f"Use at most {EMAIL_MAX} characters."})
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise InputError({"email": "Enter a valid email address."}) from None
    query = select(User.id).where(User.email == address)
    if user_id is not None:
        query = query.where(User.id != user_id)
    if db.session.scalar(query) is not None:
        raise InputError({"email": "A user with that email already exists."})
    return address


def checked_name(name: str | None) -> str:
    text = (name or "").strip()
    if not text:
        raise InputError({"name": "Enter a name."})
    if len(text) > NAME_MAX:
        raise InputError({"name": f"Use at most {NAME_MAX} characters."})
    refused = control_character_message(text, multiline=False)
    if refused:
        raise InputError({"name": refused})
    return text


def checked_password(password: str | None) -> str:
    if not password:
        raise InputError({"password": "Set a first password for the new user."})
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise InputError(
            {"password": f"Use {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters."}
        )
    return password


def create_user(
    *, email: str | None, name: str | None, role: Role, password: str | None, active: bool = True
) -> User:
    """A new person who can sign in (the audit listener records the new row)."""
    address = checked_email(email)
    user = User(
        email=address,
        name=checked_name(name),
        role=role,
        is_active_account=active,
    )
    user.set_password(checked_password(password))
    db.session.add(user)
    db.session.flush()
    return user


def update_user(
    user: User,
    *,
    email: str | None,
    name: str | None,
    role: Role,
    active: bool,
    password: str | None,
    acting_user_id: int,
) -> None:
    """An administrator's changes to a user: address, name, role, access and, when given, a
    new password (which ends the user's sessions and revokes their API tokens)."""
    address = checked_email(email, user.id)
    if user.id == acting_user_id and (role != Role.ADMIN or not active):
        raise InputError({"role": "You cannot remove your own administrator access."})
    new_name = checked_name(name)
    new_password = checked_password(password) if password else None
    was_active = user.is_active_account
    user.email = address
    user.name = new_name
    auth_service.change_role(user, role)
    if was_active and not active:
        auth_service.deactivate(user)
    else:
        user.is_active_account = active
    if new_password is not None:
        auth_service.change_password(user, new_password, reset=True)


def deactivate_user(user: User, acting_user_id: int) -> None:
    """The user can no longer sign in: their sessions end, their API tokens are revoked."""
    if user.id == acting_user_id:
        raise InputError("You cannot deactivate your own account.")
    if user.is_active_account:
        auth_service.deactivate(user)
