"""Demo users: one per role, named after the department's functions."""

from __future__ import annotations

from app.extensions import db
from app.models.user import Role, User

DEMO_USERS = [
    ("admin@frontline.example", "Avery Admin", Role.ADMIN),
    ("security@frontline.example", "Sam Security", Role.SECURITY),
    ("manager@frontline.example", "Morgan Manager", Role.MANAGER),
    ("viewer@frontline.example", "Lee Leadership", Role.VIEWER),
]


def load(context: dict) -> None:
    from app.seed import demo_password

    context["users"] = {}
    for email, name, role in DEMO_USERS:
        password = demo_password()
        user = User(email=email, name=name, role=role)
        user.set_password(password)
        db.session.add(user)
        context["users"][role] = user
        context["passwords"][email] = password
