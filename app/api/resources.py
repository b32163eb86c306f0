"""The API's two blueprints and what every area's resources share.

Each area's resources live beside the area (``app/threats/api.py``, ``app/coverage/api.py``
...) and register on ``register`` or ``figures`` here; ``blueprints()`` loads them.
Lists are paginated (``page``, ``per_page``) and take the filters of the list pages;
every list loads its related rows with ``selectinload`` so the number of SQL queries
does not grow with the page size.
"""

from __future__ import annotations

from flask import abort, request

from app.api import schemas as s
from app.api.errors import register_api_errors
from app.api.strict import Blueprint, refuse_unknown_arguments
from app.extensions import db
from app.validation import InputError

register = Blueprint(
    "api_register", __name__, url_prefix="", description="Threats, countermeasures, systems, staff"
)
figures = Blueprint(
    "api_figures", __name__, url_prefix="", description="OKRs, coverage and quarter figures"
)

register_api_errors(register)
register_api_errors(figures)
register.before_request(refuse_unknown_arguments)
figures.before_request(refuse_unknown_arguments)


def blueprints() -> list[Blueprint]:
    # The areas' packages load their pages, which may load this module: imported here, in
    # the order their paths appear in the OpenAPI document.
    # isort: off
    from app.threats import api as threats_api  # noqa: F401 - routes of both blueprints
    from app.countermeasures import api as countermeasures_api  # noqa: F401
    from app.coverage import api as coverage_api  # noqa: F401
    from app.api import deletions  # noqa: F401
    from app.okrs import api as okrs_api  # noqa: F401
    from app.reports import api as reports_api  # noqa: F401
    from app.catalogues.api import catalogues

    # isort: on

    return [register, figures, catalogues]


def get_or_404(model, object_id: int, *options):
    if not 1 <= object_id <= s.MAX_ID:
        abort(404, f"No {model.__name__} with id {object_id}.")
    found = db.session.get(model, object_id, options=list(options))
    if found is None:
        abort(404, f"No {model.__name__} with id {object_id}.")
    return found


PAGING = ("page", "per_page", "after", "before", "updated_since", "include_archived")


def page_args(**everything) -> dict:
    """The request's query string as the list pages read it (paging is the API's own);
    with include_archived=1, ``everything`` replaces the page's filter of what is current."""
    args = {k: v for k, v in request.args.items() if k not in PAGING}
    if request.args.get("include_archived") == "1":
        args.update(everything)
    return args


def refused(field: str, message: str):
    raise InputError({field: message})  # 422, as the schema's own refusals
