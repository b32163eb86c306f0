"""The API's resources for quarter reports, on the api blueprints of ``app.api.resources``."""

from __future__ import annotations

import io

from flask import abort, send_file, url_for
from flask.views import MethodView

from app import fiscal
from app.api.records import query_read
from app.api.resources import figures
from app.domain.quarters import Quarter
from app.models import (
    Objective,
)
from app.reports import service as report_service
from app.reports.api_schemas import ReportArgs, ReportSchema
from app.security import readable

# ---- reports --------------------------------------------------------------------------


def _report_subject(args) -> tuple[Objective, Quarter]:
    quarter = report_service.parse_report_quarter(
        args["quarter"], fiscal.start_month(), fiscal.today()
    )
    if args.get("objective") is None:
        objective = report_service.default_objective(quarter.fiscal_year)
        if objective is None:
            abort(404, f"There is no objective for {quarter.fiscal_year_label} to report on.")
        return objective, quarter
    try:
        objective = report_service.objective_for_report(args["objective"])
    except report_service.ReportNotFoundError as error:
        abort(404, str(error))
    report_service.check_quarter_in_year(objective, quarter)
    return objective, quarter


def _report_state(args: dict) -> dict:
    objective, quarter = _report_subject(args)
    publications = report_service.publications_of(objective.id, quarter)
    return {
        "objective": {"id": objective.id, "title": objective.title},
        "quarter": quarter.label,
        "published": any(p.superseded_by_id is None for p in publications),
        "pdf": url_for("api_figures.ReportPdf", objective=objective.id, quarter=quarter.label),
        "publications": publications,
    }


query_read(
    figures,
    "/reports",
    "Reports",
    args_schema=ReportArgs,
    schema=ReportSchema,
    answer=_report_state,
    doc="""A quarter's report: whether it is published, its publications, and its PDF's
        address (the published copy when there is one, as the reports page downloads).""",
)


@figures.route("/reports/pdf")
class ReportPdf(MethodView):
    @readable
    @figures.arguments(ReportArgs, location="query")
    @figures.doc(
        responses={
            "200": {
                "description": "The PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    )
    def get(self, args):
        """The quarter's PDF report: the published copy when there is one, else built now."""
        objective, quarter = _report_subject(args)
        document = report_service.report_document(objective, quarter, fiscal.today())
        return send_file(
            io.BytesIO(document.pdf),
            mimetype="application/pdf",
            as_attachment=True,
            download_name=report_service.download_name(objective, quarter),
            max_age=0,
        )
