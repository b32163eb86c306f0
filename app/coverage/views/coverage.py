"""The SPOF coverage page: every production system's state as of a date."""

from __future__ import annotations

from flask import render_template, request

from app import fiscal
from app.coverage import bp, figures
from app.coverage.views.common import LIST_LIMIT
from app.domain.quarters import QuarterError, quarters_of_fiscal_year
from app.okrs.figures import kr_codes_for_metrics
from app.security import readable


@bp.route("/coverage")
@readable
def coverage():
    today = fiscal.today()
    quarter = None
    error = None
    as_of = today
    try:
        picked = fiscal.parse_date_or_none(request.args.get("date"))
        if picked is not None:
            as_of = picked
        elif request.args.get("quarter"):
            quarter = fiscal.quarter_or_none(request.args["quarter"])
            as_of = quarter.last_day
    except (ValueError, QuarterError) as exc:
        error = str(exc)
    current_fy = fiscal.quarter_of_date(today).fiscal_year
    quarter_options = quarters_of_fiscal_year(current_fy - 1, fiscal.start_month())
    quarter_options += quarters_of_fiscal_year(current_fy, fiscal.start_month())
    # What the page shows with or without figures: the date picker's choices, the refusal.
    page = {"today": today, "quarter_options": quarter_options, "error": error}
    if error:
        return render_template("coverage/coverage.html", quarter=None, as_of=None, **page), 400
    fy = fiscal.quarter_of_date(as_of).fiscal_year
    result, trend = figures.coverage_with_trend(as_of, fy)
    krs = kr_codes_for_metrics(("spof_staff", "spof_positions_filled"), fy)
    return render_template(
        "coverage/coverage.html",
        coverage=result,
        trend=trend,
        hiring=figures.hiring_summary(as_of),
        spof_krs=krs["spof_staff"],
        positions_krs=krs["spof_positions_filled"],
        quarter=quarter,
        as_of=as_of,
        limit=LIST_LIMIT,
        **page,
    )


# Systems.
