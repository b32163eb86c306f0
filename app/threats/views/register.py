"""The register's lists and a threat's page: the register, a threat, the reviews due."""

from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app import fiscal
from app.catalogues.queries import threat_mappings
from app.domain.scoring import level_for
from app.extensions import db
from app.models.audit import audit_trail, audit_trail_length
from app.models.countermeasures import Countermeasure, countermeasure_threats
from app.models.threats import (
    Tag,
    Threat,
    ThreatScoreChange,
    ThreatStateChange,
    ThreatStatus,
    Treatment,
)
from app.security import readable
from app.threats import bp, figures, queries
from app.threats.forms import DatedActionForm, ReviewForm
from app.threats.risk import risk_matrix
from app.threats.states import acceptance_needs_decision, review_overdue
from app.threats.views.common import AUDIT_SHOWN, MAX_TOP, _choices, _filters, _int_arg, _paginate


def _filter_lists() -> dict[str, list]:
    """What the register's filters offer: categories, people, systems, tags, statuses."""
    categories, users, systems = _choices()
    tags = db.session.scalars(select(Tag.name).order_by(Tag.name).limit(300)).all()
    return {
        "categories": categories,
        "users": users,
        "systems": systems,
        "tags": tags,
        "statuses": list(ThreatStatus),
    }


@bp.route("/threats")
@readable
def index():
    f = _filters()
    today = fiscal.today()
    page = _paginate(queries.register_query(f, today))
    top_n = _int_arg("top", 1, MAX_TOP)
    top = figures.top_threats(today, top_n) if top_n else None
    return render_template(
        "threats/index.html",
        page=page,
        f=f,
        today=today,
        matrix=risk_matrix(),
        **_filter_lists(),
        top=top,
        top_n=top_n,
        needs_decision=acceptance_needs_decision,
        ignored_filters=queries.ignored_filters(request.args, MAX_TOP),
        # The dashboard's and the report's count: open threats scored on the register today.
        in_register=sum(figures.heatmap_as_of(today, "residual").values()),
    )


@bp.route("/threats/<int:threat_id>")
@readable
def detail(threat_id: int):
    threat = (
        db.session.scalars(
            select(Threat)
            .where(Threat.id == threat_id)
            .options(
                joinedload(Threat.category),
                joinedload(Threat.owner),
                joinedload(Threat.feed),
                joinedload(Threat.acceptance_approver),
                selectinload(Threat.systems),
                selectinload(Threat.tags),
                selectinload(Threat.score_changes).joinedload(ThreatScoreChange.author),
                # Joined to the threat's own query: the page keeps its query count.
                joinedload(Threat.state_changes).joinedload(ThreatStateChange.author),
            )
        )
        .unique()
        .first()
    )
    if threat is None:
        abort(404, "There is no threat with that number.")
    countermeasures = db.session.scalars(
        select(Countermeasure)
        .join(
            countermeasure_threats,
            countermeasure_threats.c.countermeasure_id == Countermeasure.id,
        )
        .where(countermeasure_threats.c.threat_id == threat.id)
        .order_by(Countermeasure.title)
    ).all()
    audit = audit_trail("Threat", [threat.id], AUDIT_SHOWN)
    audit_total = audit_trail_length("Threat", [threat.id])
    matrix = risk_matrix()
    today = fiscal.today()
    review_form = ReviewForm()
    review_form.reviewed_on.data = today
    return render_template(
        "threats/detail.html",
        threat=threat,
        history=list(reversed(threat.score_changes)),
        states=list(reversed(threat.state_changes)),
        review_form=review_form,
        dated_form=DatedActionForm(),
        countermeasures=countermeasures,
        mappings=threat_mappings(threat.id),
        audit=audit,
        audit_total=audit_total,
        matrix=matrix,
        level_for=lambda s: level_for(s, matrix),
        today=today,
        needs_decision=acceptance_needs_decision(threat, today),
        overdue=review_overdue(threat, today),
    )


@bp.route("/threats/reviews")
@readable
def reviews():
    today = fiscal.today()
    expired = db.session.scalars(
        select(Threat)
        .options(joinedload(Threat.owner), joinedload(Threat.acceptance_approver))
        .where(
            Threat.archived_at.is_(None),
            Threat.status != ThreatStatus.CLOSED,
            Threat.treatment == Treatment.ACCEPT,
            Threat.acceptance_expires_on < today,
        )
        .order_by(Threat.acceptance_expires_on)
    ).all()
    return render_template(
        "threats/reviews.html",
        groups=figures.reviews_due(today),
        expired=expired,
        today=today,
        level_for=lambda s: level_for(s, risk_matrix()),
    )
