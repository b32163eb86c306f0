"""Finding, building and publishing quarter reports; shared by the pages and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.domain.quarters import Quarter, QuarterError, parse_quarter
from app.extensions import db
from app.models.okrs import Objective
from app.models.reports import ReportPublication
from app.models.setting import get_setting, set_setting
from app.models.user import User
from app.reports.appendix import register_appendix
from app.reports.pdf import build_report_pdf
from app.reports.pdf.cover import SignOff
from app.reports.quarter_report import gather_quarter_report
from app.reports.quarter_report.sections import ALL_AREAS
from app.reports.quarter_report.values import QuarterReport
from app.validation import InputError, id_or_none

REPORT_MARKING_KEY = "report_marking"
DEFAULT_MARKING = "Internal — leadership"
DEFAULT_OBJECTIVE = "Front Line Defenses"
REASON_MAX_LENGTH = 2000


class ReportNotFoundError(LookupError):
    """An objective that does not exist."""


def report_marking() -> str:
    return str(get_setting(REPORT_MARKING_KEY, DEFAULT_MARKING))


def save_report_marking(marking: str) -> None:
    marking = (marking or "").strip()
    if not marking:
        raise InputError({"marking": "Enter the marking printed on every page."})
    if len(marking) > 80:
        raise InputError({"marking": "Keep the marking under 80 characters."})
    set_setting(REPORT_MARKING_KEY, marking)


def parse_report_quarter(label: str | None, start_month: int, today: date) -> Quarter:
    """A quarter that can be reported: a known label, not in the future."""
    if not label or not label.strip():
        raise InputError({"quarter": "Choose a quarter, e.g. FY20-21 Q2."})
    try:
        quarter = parse_quarter(label, start_month)
    except QuarterError as error:
        raise InputError({"quarter": str(error)}) from None
    if quarter.first_day > today:
        raise InputError(
            {"quarter": f"{quarter.label} has not started yet: there is nothing to report."}
        )
    return quarter


def objective_for_report(objective_id: int | str | None) -> Objective:
    object_id = id_or_none(str(objective_id)) if objective_id is not None else None
    objective = db.session.get(Objective, object_id) if object_id is not None else None
    if objective is None:
        raise ReportNotFoundError(f"There is no objective with id {objective_id!r}.")
    return objective


def objective_by_title(title: str, fiscal_year: int) -> Objective:
    """The objective of that title for the fiscal year (the CLI names objectives by title)."""
    objective = db.session.scalar(
        select(Objective)
        .where(Objective.title == title.strip(), Objective.fiscal_year == fiscal_year)
        .order_by(Objective.id)
        .limit(1)
    )
    if objective is None:
        raise ReportNotFoundError(f'There is no objective "{title}" for that fiscal year.')
    return objective


def default_objective(fiscal_year: int) -> Objective | None:
    found = db.session.scalar(
        select(Objective)
        .where(Objective.fiscal_year == fiscal_year)
        .order_by((Objective.title == DEFAULT_OBJECTIVE).desc(), Objective.position, Objective.id)
        .limit(1)
    )
    return found


def all_objectives() -> list[Objective]:
    query = select(Objective).order_by(
        Objective.fiscal_year.desc(), Objective.position, Objective.title
    )
    return list(db.session.scalars(query))


def check_quarter_in_year(objective: Objective, quarter: Quarter) -> None:
    if quarter.fiscal_year != objective.fiscal_year:
        raise InputError(
            {
                "quarter": f"{objective.title} is an objective of another fiscal year; "
                f"{quarter.label} is not one of its quarters."
            }
        )


def live_report(objective: Objective, quarter: Quarter, today: date) -> QuarterReport:
    check_quarter_in_year(objective, quarter)
    return gather_quarter_report(objective, quarter, today)


def current_publication(objective_id: int, quarter: Quarter) -> ReportPublication | None:
    return db.session.scalar(
        select(ReportPublication)
        .where(
            ReportPublication.objective_id == objective_id,
            ReportPublication.quarter_start == quarter.first_day,
            ReportPublication.superseded_by_id.is_(None),
        )
        .order_by(ReportPublication.id.desc())
        .limit(1)
    )


def has_frozen_appendix(publication: ReportPublication) -> bool:
    """Whether the publication keeps a document with the register appendix (read without
    loading it)."""
    return bool(
        db.session.scalar(
            select(ReportPublication.appendix_pdf.is_not(None)).where(
                ReportPublication.id == publication.id
            )
        )
    )


def publications_of(objective_id: int, quarter: Quarter) -> list[ReportPublication]:
    """Every publication of the quarter, newest first (the PDF bytes are not loaded)."""
    return list(
        db.session.scalars(
            select(ReportPublication)
            .where(
                ReportPublication.objective_id == objective_id,
                ReportPublication.quarter_start == quarter.first_day,
            )
            .order_by(ReportPublication.id.desc())
        )
    )


@dataclass(frozen=True)
class ReportDocument:
    pdf: bytes
    publication: ReportPublication | None

    @property
    def published(self) -> bool:
        return self.publication is not None


APPENDICES = ("register",)


def report_document(
    objective: Objective, quarter: Quarter, today: date, appendix: str | None = None
) -> ReportDocument:
    """The published document of the quarter if there is one, else one built now.

    ``appendix="register"`` adds every threat in force at the quarter end; for a published
    quarter, the appendix frozen with the publication (the register as it was then)."""
    check_quarter_in_year(objective, quarter)
    if appendix and appendix not in APPENDICES:
        raise InputError({"appendix": f'Unknown appendix "{appendix}": use "register".'})
    publication = current_publication(objective.id, quarter)
    if publication is not None:
        if appendix:
            frozen = publication.appendix_pdf
            if frozen is None:
                raise InputError(
                    {
                        "appendix": f"{objective.title} {quarter.label} was published without "
                        "the register appendix; publish it again to freeze one."
                    }
                )
            return ReportDocument(frozen, publication)
        return ReportDocument(publication.pdf, publication)
    report = gather_quarter_report(objective, quarter, today)
    extra = register_appendix(report.as_of) if appendix == "register" else None
    return ReportDocument(build_report_pdf(report, today, report_marking(), appendix=extra), None)


def download_name(objective: Objective, quarter: Quarter) -> str:
    slug = "-".join("".join(c if c.isalnum() else " " for c in objective.title).lower().split())
    return f"{slug or 'report'}-{quarter.slug}.pdf"


def publish_report(
    objective: Objective,
    quarter: Quarter,
    *,
    reason: str,
    user_id: int | None,
    today: date,
    with_appendix: bool = True,
) -> ReportPublication:
    """Freeze the quarter's PDF and headline figures; a new publication supersedes the old.

    ``with_appendix``: freeze the document with the full-register appendix too (about a
    minute at 100,000 threats), so that asking for the appendix of a published quarter
    gives the register as it was published, whatever changes later.

    Raises InputError for a quarter that has not ended, or a republication without a reason.
    The caller commits.
    """
    check_quarter_in_year(objective, quarter)
    reason = (reason or "").strip()
    if quarter.last_day >= today:
        raise InputError(
            {
                "quarter": f"{quarter.label} ends on {quarter.last_day.isoformat()}; "
                "a quarter can be published once it is over."
            }
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise InputError({"reason": f"Keep the reason under {REASON_MAX_LENGTH} characters."})
    previous = current_publication(objective.id, quarter)
    if previous is not None and not reason:
        raise InputError(
            {"reason": "This quarter is already published: say why it is published again."}
        )
    report = gather_quarter_report(objective, quarter, today)
    publisher = db.session.get(User, user_id) if user_id is not None else None
    signoff = SignOff(
        reviewed_by=publisher.name if publisher is not None else "command line",
        published_on=today,
    )
    marking = report_marking()
    frozen_appendix = None
    if with_appendix:
        frozen_appendix = build_report_pdf(
            report, today, marking, signoff, appendix=register_appendix(report.as_of)
        )
    publication = ReportPublication(
        objective_id=objective.id,
        quarter_start=quarter.first_day,
        published_by_id=user_id,
        generated_on=today,
        pdf=build_report_pdf(report, today, marking, signoff),
        appendix_pdf=frozen_appendix,
        figures=report.headline(),
        reason=reason,
        supersedes_id=previous.id if previous is not None else None,
    )
    db.session.add(publication)
    db.session.flush()
    if previous is not None:
        previous.superseded_by_id = publication.id
        db.session.flush()
    return publication


@dataclass
class Dashboard:
    """The leadership dashboard: the current quarter's headline figures and the last report."""

    report: QuarterReport
    objective: Objective | None
    report_quarter: Quarter  # the last complete quarter, offered for download
    report_objective: Objective | None


def dashboard(today: date, start_month: int) -> Dashboard:
    from app.domain.quarters import quarter_of

    quarter = quarter_of(today, start_month)
    objective = default_objective(quarter.fiscal_year)
    last = quarter.previous()
    return Dashboard(
        report=gather_quarter_report(objective, quarter, today, detail=False, areas=ALL_AREAS),
        objective=objective,
        report_quarter=last,
        report_objective=default_objective(last.fiscal_year),
    )


def published_reports_differing(on: date) -> list[str]:
    """The published reports a change effective on ``on`` makes differ from the live figures.

    A published quarter reads the register as of its last day (and its first, for the
    top threats), so a change dated on or before its last day is a correction of it.
    Named as "<objective> <quarter> (published <date>)", oldest quarter first.
    """
    from app.reports.corrections import affected_reports

    return [
        f"{r.objective} {r.quarter} (published {r.published_on.isoformat()})"
        for r in affected_reports(on)
    ]
