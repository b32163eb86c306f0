from flask import Blueprint

bp = Blueprint("countermeasures", __name__)

from app.countermeasures import views  # noqa: E402,F401
