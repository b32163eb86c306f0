"""``/reports``: choose an objective and a quarter, download its PDF, publish it."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app import fiscal
from app.domain.quarters import Quarter, fiscal_year_label, quarters_of_fiscal_year
from app.forms import saved_settings
from app.models.okrs import Objective
from app.models.user import Role
from app.reports import bp
from app.reports.forms import PublishForm, ReportSettingsForm
from app.reports.quarter_report.values import headline_differences
from app.reports.service import (
    ReportNotFoundError,
    all_objectives,
    check_quarter_in_year,
    current_publication,
    default_objective,
    download_name,
    has_frozen_appendix,
    live_report,
    objective_for_report,
    parse_report_quarter,
    publications_of,
    publish_report,
    report_document,
    report_marking,
    save_report_marking,
)
from app.security import readable, roles
from app.validation import InputError, saved_or_shown


def _quarter_or_400(label: str | None) -> Quarter:
    try:
        return parse_report_quarter(label, fiscal.start_month(), fiscal.today())
    except InputError as error:
        abort(400, error.errors["quarter"])


def _objective_or_404(objective_id: str | None, quarter: Quarter) -> Objective:
    if not objective_id:
        objective = default_objective(quarter.fiscal_year)
        if objective is None:
            abort(404, f"There is no objective for {quarter.fiscal_year_label} to report on.")
        return objective
    try:
        return objective_for_report(objective_id)
    except ReportNotFoundError as error:
        abort(404, str(error))


def _reportable_quarters(objective: Objective) -> list[Quarter]:
    today = fiscal.today()
    return [
        q
        for q in quarters_of_fiscal_year(objective.fiscal_year, fiscal.start_month())
        if q.first_day <= today
    ]


def _default_quarter_for(objective: Objective) -> Quarter:
    last = fiscal.last_complete_quarter()
    if last.fiscal_year == objective.fiscal_year:
        return last
    started = _reportable_quarters(objective)
    return started[-1] if started else last


def _render_index(objective: Objective | None, quarter: Quarter, form: PublishForm | None = None):
    today = fiscal.today()
    context = {
        "objectives": all_objectives(),
        "objective": objective,
        "quarter": quarter,
        "fy_label": lambda fy: fiscal_year_label(fy, fiscal.start_month()),
    }
    if objective is None:
        return render_template("reports/index.html", **context)
    publication = current_publication(objective.id, quarter)
    live = live_report(objective, quarter, today)
    differences = headline_differences(publication.figures, live.headline()) if publication else []
    if form is None:
        form = PublishForm(
            formdata=None, objective=objective.id, quarter=quarter.label, with_appendix=True
        )
    return render_template(
        "reports/index.html",
        **context,
        quarters=_reportable_quarters(objective),
        live=live,
        publication=publication,
        frozen_appendix=publication is not None and has_frozen_appendix(publication),
        publications=publications_of(objective.id, quarter),
        differences=differences,
        form=form,
        can_publish=current_user.has_role(Role.MANAGER) and quarter.last_day < today,
    )


@bp.route("/reports")
@readable
def index():
    objective_id = request.args.get("objective", "").strip()
    label = request.args.get("quarter", "").strip()
    if objective_id:
        try:
            objective = objective_for_report(objective_id)
        except ReportNotFoundError as error:
            abort(404, str(error))
        quarter = _quarter_or_400(label) if label else _default_quarter_for(objective)
    else:
        quarter = _quarter_or_400(label) if label else fiscal.last_complete_quarter()
        objective = default_objective(quarter.fiscal_year)
    if objective is not None and quarter.fiscal_year != objective.fiscal_year:
        flash(
            f"{quarter.label} is not a quarter of {objective.title} "
            f"({objective.fiscal_year} fiscal year): showing its latest quarter instead.",
            "warning",
        )
        quarter = _default_quarter_for(objective)
    return _render_index(objective, quarter)


@bp.route("/reports/download")
@readable
def download():
    quarter = _quarter_or_400(request.args.get("quarter", "").strip())
    objective = _objective_or_404(request.args.get("objective", "").strip(), quarter)
    appendix = request.args.get("appendix", "").strip() or None
    try:
        document = report_document(objective, quarter, fiscal.today(), appendix)
    except InputError as error:
        abort(400, error.errors.get("quarter") or error.errors.get("appendix") or str(error))
    return send_file(
        io.BytesIO(document.pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=download_name(objective, quarter),
        max_age=0,
    )


@bp.route("/reports/publish", methods=["POST"])
@roles(Role.MANAGER)
def publish():
    form = PublishForm()
    quarter = _quarter_or_400(form.quarter.data)
    objective = _objective_or_404(form.objective.data, quarter)
    try:
        check_quarter_in_year(objective, quarter)
    except InputError as error:
        abort(400, error.errors["quarter"])
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            publication = publish_report(
                objective,
                quarter,
                reason=form.reason.data or "",
                user_id=current_user.id,
                today=fiscal.today(),
                with_appendix=bool(form.with_appendix.data),
            )
        if outcome.saved:
            flash(
                f"{objective.title} {quarter.label} published; its download is now frozen "
                f"(publication {publication.id}).",
                "success",
            )
            return redirect(url_for("reports.index", objective=objective.id, quarter=quarter.label))
    return _render_index(objective, quarter, form), 400


@bp.route("/reports/settings", methods=["GET", "POST"])
@roles(Role.ADMIN)
def settings():
    form = ReportSettingsForm()

    def fill() -> None:
        form.marking.data = report_marking()

    saved = saved_settings(
        form,
        fill,
        lambda: save_report_marking(form.marking.data),
        "Report marking saved.",
        "reports.settings",
    )
    return saved or render_template("reports/settings.html", form=form)


@bp.route("/trend")
@readable
def trend():
    from app.reports.trend import charts, trend_rows

    today = fiscal.today()
    years = request.args.get("years", "2")
    if years not in ("1", "2", "3", "4", "5"):
        abort(404, "Show the trend over 1 to 5 fiscal years.")
    current = fiscal.current_quarter().fiscal_year
    fiscal_years = list(range(current - int(years) + 1, current + 1))
    rows = trend_rows(fiscal_years, fiscal.start_month(), today)
    return render_template(
        "reports/trend.html",
        rows=rows,
        charts=charts(rows),
        years=int(years),
        fiscal_years=[fiscal_year_label(fy, fiscal.start_month()) for fy in fiscal_years],
        today=today,
    )
