"""Objectives and key results per fiscal quarter, fed by the register's figures."""

from flask import Blueprint

bp = Blueprint("okrs", __name__)

from app.okrs import views  # noqa: E402,F401
