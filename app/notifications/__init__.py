"""Reminders: e-mail digests, webhooks and the runs that send them."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from app.notifications import views  # noqa: E402,F401
