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
    from app.reports.trend import charts, trend_rows

    today = fiscal.today()
    year = fiscal.current_quarter().fiscal_year
    # The trend panel: this fiscal year and the last, the trend page's own figures.
    trend = charts(trend_rows([year - 1, year], fiscal.start_month(), today))
    return render_template(
        "main/dashboard.html",
        board=dashboard_figures(today, fiscal.start_month()),
        trend=trend,
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
