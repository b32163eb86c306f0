"""Threat-intelligence feeds: STIX 2.1 bundles become candidate threats to accept or dismiss."""

from flask import Blueprint

bp = Blueprint("feeds", __name__)

from app.feeds import views  # noqa: E402,F401
