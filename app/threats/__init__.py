"""The threat register: threats and their risk scores, treatment, reviews and heat map."""

from flask import Blueprint

bp = Blueprint("threats", __name__)

from app.threats import views  # noqa: E402,F401
