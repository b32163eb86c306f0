"""All models, imported here so Alembic and the app see one metadata."""

from app.models.audit import AuditEntry
from app.models.setting import Setting
from app.models.user import Role, User

__all__ = ["AuditEntry", "Role", "Setting", "User"]
