"""What the threat register's pages share: the list's filters and paging, the form choices,
and the warning about published reports a dated change makes differ."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, request
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app.domain.scoring_methods import DREAD_FACTORS, OWASP_FACTORS
from app.extensions import db
from app.models.systems import System
from app.models.threats import Threat, ThreatCategory
from app.models.user import User
from app.reports.service import published_reports_differing
from app.threats import queries

PER_PAGE = 25
# The factor grids of the threat form.
FACTOR_NAMES = {
    "owasp_factors": list(OWASP_FACTORS),
    "dread_factors": list(DREAD_FACTORS),
}
AUDIT_SHOWN = 50
MAX_TOP = 50


def _int_arg(name: str, lo: int = 1, hi: int = 10**9) -> int | None:
    return queries.int_arg(request.args, name, lo, hi)


def _filters() -> queries.Filters:
    try:
        return queries.parse_filters(request.args)
    except ValueError as error:
        abort(400, str(error))


def _paginate(query):
    # The count runs on ids only (no ORDER BY, no eager loads): cheap at any size.
    page = db.paginate(
        query.options(
            joinedload(Threat.category),
            joinedload(Threat.owner),
            selectinload(Threat.systems),
            selectinload(Threat.tags),
        ),
        per_page=PER_PAGE,
        error_out=False,
        count=False,
    )
    count_query = select(func.count()).select_from(
        query.with_only_columns(Threat.id).order_by(None).subquery()
    )
    page.total = db.session.scalar(count_query)
    return page


def _choices():
    categories = db.session.execute(
        select(ThreatCategory.id, ThreatCategory.name, ThreatCategory.active).order_by(
            ThreatCategory.name
        )
    ).all()
    users = db.session.execute(
        select(User.id, User.name, User.role, User.is_active_account).order_by(User.name)
    ).all()
    systems = db.session.execute(select(System.id, System.name).order_by(System.name)).all()
    return categories, users, systems


def _warn_published(*days: date | None) -> None:
    """Flash which published reports a change dated on the earliest of ``days`` corrects."""
    dated = [d for d in days if d is not None]
    if not dated:
        return
    named = published_reports_differing(min(dated))
    if named:
        flash(
            "This change is dated inside a published quarter: the live figures now differ "
            "from the published report of " + "; ".join(named) + ".",
            "warning",
        )
