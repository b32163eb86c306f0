"""The quarterly report: the reports page, the PDF download and publishing a quarter."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from app.reports import views  # noqa: E402,F401
