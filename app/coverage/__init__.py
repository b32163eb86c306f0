"""Systems, staff, responsibilities, SPOF coverage and the hiring that removes SPOFs."""

from flask import Blueprint

bp = Blueprint("coverage", __name__)

from app.coverage import views  # noqa: E402,F401
