"""Catalogues: ATT&CK techniques and control frameworks as versioned libraries, the
mappings of threats and countermeasures to their entries, and coverage as of a date."""

from flask import Blueprint

bp = Blueprint("catalogues", __name__)

from app.catalogues import views  # noqa: E402,F401
