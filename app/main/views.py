from __future__ import annotations

from flask import jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db, limiter
from app.main import bp
from app.security import public, readable


@bp.route("/")
@readable
def dashboard():
    from app import fiscal
    from app.reports.service import dashboard as dashboard_figures

    return render_template(
        "main/dashboard.html", board=dashboard_figures(fiscal.today(), fiscal.start_month())
    )


@bp.route("/healthz")
@public
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
