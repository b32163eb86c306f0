"""The API's resources for threats, on the api blueprints of ``app.api.resources``."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app import fiscal
from app.api import writes as w
from app.api.paging import conditional
from app.api.records import Write, query_read, record_action, record_list
from app.api.resources import figures, get_or_404, page_args, refused, register
from app.domain.scoring import level_for
from app.extensions import db
from app.models import (
    Threat,
)
from app.models.user import Role
from app.security import readable, roles
from app.threats import api_rows as rows
from app.threats import figures as threat_figures
from app.threats import queries as threat_queries
from app.threats.api_schemas import (
    DatedAction,
    HeatmapArgs,
    HeatmapSchema,
    ThreatArgs,
    ThreatCreate,
    ThreatDetailSchema,
    ThreatPage,
    ThreatReview,
    ThreatUpdate,
    TopArgs,
    TopSchema,
)
from app.threats.archive import archive_threat, restore_threat
from app.threats.risk import risk_matrix
from app.threats.service import create_threat, update_threat
from app.threats.states import review_threat

# ---- threats ------------------------------------------------------------------------

THREAT_LOADS = (
    selectinload(Threat.category),
    selectinload(Threat.feed),
    selectinload(Threat.owner),
    selectinload(Threat.systems),
    selectinload(Threat.tags),
)


def _threat_list(args: dict):
    try:
        return threat_queries.list_query(page_args(include_archived="1"))
    except ValueError as error:  # the page's 400: an impossible date
        refused("as_of", str(error))


record_list(
    register,
    "/threats",
    "Threats",
    model=Threat,
    args_schema=ThreatArgs,
    page_schema=ThreatPage,
    query=_threat_list,
    items_of=rows.threat_items,
    listed="""Threats in the register, with their current scores, level, systems and tags.

        The register page's filters and sort, with the same names and values: the same
        query string lists the same threats in the same order here, on the page and in
        its CSV export.""",
    schema=ThreatDetailSchema,
    create_schema=ThreatCreate,
    role=Role.SECURITY,
    create=lambda body: create_threat(author_id=current_user.id, **body),
    added="Add a threat with its first assessment: security and admins.",
)


THREAT_DETAIL_LOADS = (
    *THREAT_LOADS,
    selectinload(Threat.score_changes),
    selectinload(Threat.state_changes),
)


def load_threat(threat_id: int) -> Threat:
    return get_or_404(Threat, threat_id, *THREAT_DETAIL_LOADS)


@register.route("/threats/<int:threat_id>")
class ThreatDetail(MethodView):
    @readable
    @conditional
    @register.response(200, ThreatDetailSchema)
    def get(self, threat_id):
        """One threat with its score history and its dated status and review history."""
        return load_threat(threat_id)

    @roles(Role.SECURITY)
    @register.arguments(ThreatUpdate)
    @register.response(200, ThreatDetailSchema)
    @register.alt_response(409, response="DEFAULT_ERROR", description="Changed meanwhile")
    def patch(self, body, threat_id):
        """Change a threat; new scores are kept in its history (dated ``scored_on``)."""
        threat = load_threat(threat_id)
        version = body.pop("version")
        update_threat(threat, author_id=current_user.id, version=version, **body)
        return w.saved(threat)


def _dated(action):
    """Archive or restore a threat from the body's ``on`` (default today)."""
    return lambda threat, body: action(threat, current_user.id, on=(body or {}).get("on"))


def _review(threat: Threat, body: dict) -> None:
    review_threat(
        threat,
        current_user.id,
        on=body.get("reviewed_on"),
        outcome=body.get("outcome") or "",
        next_review_on=body.get("next_review_on"),
    )


# Dated facts rather than edits of the current state: no version to match.
for rule, name, body_schema, act, doc in (
    (
        "archive",
        "ThreatArchive",
        DatedAction,
        _dated(archive_threat),
        "Take a threat off the register (kept, and restorable) from ``on`` (default today).",
    ),
    (
        "restore",
        "ThreatRestore",
        DatedAction,
        _dated(restore_threat),
        "Put an archived threat back on the register from ``on`` (default today).",
    ),
    (
        "reviews",
        "ThreatReviews",
        ThreatReview,
        _review,
        "Record a review: when, its outcome and the next review date (a dated fact).",
    ),
):
    record_action(
        register,
        f"/threats/<int:threat_id>/{rule}",
        name,
        load=load_threat,
        body_schema=body_schema,
        schema=ThreatDetailSchema,
        role=Role.SECURITY,
        act=act,
        doc=doc,
        write=Write(versioned=False, body_required=body_schema is not DatedAction),
    )


def _heatmap(args: dict) -> dict:
    kind = args["kind"]
    today = fiscal.today()
    quarter = args.get("quarter")
    if quarter is not None and quarter.last_day > today:
        refused("quarter", f"{quarter.label} has not ended yet; choose a past quarter or a date.")
    as_of = quarter.last_day if quarter is not None else args.get("date") or today
    cells = threat_figures.heatmap_as_of(as_of, kind)
    return {
        "kind": kind,
        "as_of": as_of,
        "total": sum(cells.values()),
        "cells": [
            {
                "likelihood": li,
                "impact": im,
                "count": count,
                # The cell's link on the page: bounded by the matrix, not by the rows.
                "threat_ids": (
                    sorted(db.session.scalars(threat_figures.cell_threat_ids(as_of, kind, li, im)))
                    if count
                    else []
                ),
            }
            for (li, im), count in sorted(cells.items())
        ],
    }


query_read(
    figures,
    "/heatmap",
    "Heatmap",
    args_schema=HeatmapArgs,
    schema=HeatmapSchema,
    answer=_heatmap,
    doc="""The heat map of open threats (inherent or residual) as of a day or the end of an
        ended quarter, as the heat-map page shows it, with each cell's threats.""",
)


def _top_threats(args: dict) -> dict:
    as_of = args.get("date") or fiscal.today()
    matrix = risk_matrix()
    return {
        "as_of": as_of,
        "threats": [
            {
                "rank": rank,
                "id": t.id,
                "title": t.title,
                "inherent_score": t.inherent_score,
                "residual_score": t.residual_score,
                "level": level_for(t.residual_score, matrix).value,
            }
            for rank, t in enumerate(threat_figures.top_threats(as_of, args["n"]), start=1)
        ],
    }


query_read(
    figures,
    "/top-threats",
    "TopThreats",
    args_schema=TopArgs,
    schema=TopSchema,
    answer=_top_threats,
    doc="The register's top N open threats as of a day: the one ranking of the register.",
)
