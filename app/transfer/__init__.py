"""CSV import and export of threats, systems, staff, responsibilities and countermeasures."""

from flask import Blueprint

bp = Blueprint("transfer", __name__)

from app.transfer import views  # noqa: E402,F401
