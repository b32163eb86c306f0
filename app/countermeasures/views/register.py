"""The countermeasures' list, a countermeasure's page, new and edit."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from app import fiscal
from app.catalogues.queries import countermeasure_mappings
from app.countermeasures import bp, figures, queries
from app.countermeasures.forms import CountermeasureForm, StatusForm
from app.countermeasures.inputs import EDITED
from app.countermeasures.service import create_countermeasure, update_countermeasure
from app.countermeasures.status import next_statuses
from app.domain.quarters import quarters_of_fiscal_year
from app.extensions import db
from app.models.countermeasures import Countermeasure, CountermeasureStatus, CountermeasureType
from app.models.threats import Threat, ThreatScoreChange, ThreatStatus
from app.models.user import Role, User
from app.reports.corrections import correction_warning, earliest
from app.security import readable, roles
from app.threats.risk import risk_matrix
from app.validation import id_or_none, saved_or_shown

PER_PAGE = 50
THREAT_CHOICES = 200


# --- lists ----------------------------------------------------------------------------


def _int_arg(name: str) -> int | None:
    return id_or_none(request.args.get(name))


def user_choices():
    return db.session.execute(
        select(User.id, User.name).where(User.is_active_account.is_(True)).order_by(User.name)
    ).all()


def _quarter_label(first_day) -> str:
    return fiscal.quarter_starting(first_day).label


@bp.route("/countermeasures")
@readable
def index():
    query, filters, problems = queries.list_query(request.args)
    query = query.options(selectinload(Countermeasure.threats), selectinload(Countermeasure.owner))
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    threat = db.session.get(Threat, filters["threat"]) if filters["threat"] else None
    current = fiscal.current_quarter()
    quarters = [
        q
        for fy in (current.fiscal_year - 1, current.fiscal_year)
        for q in quarters_of_fiscal_year(fy, current.start_month)
    ]
    return render_template(
        "countermeasures/index.html",
        page=page,
        filtered=any(value not in (None, "") for value in filters.values()),
        filters=filters,
        problems=problems,
        threat=threat,
        users=user_choices(),
        quarters=quarters,
        statuses=list(CountermeasureStatus),
        types=list(CountermeasureType),
        quarter_label=_quarter_label,
    )


# --- one countermeasure ---------------------------------------------------------------


def load_countermeasure(countermeasure_id: int) -> Countermeasure:
    countermeasure = db.session.scalar(
        select(Countermeasure)
        .where(Countermeasure.id == countermeasure_id)
        .options(
            selectinload(Countermeasure.threats),
            selectinload(Countermeasure.status_changes),
            selectinload(Countermeasure.owner),
            selectinload(Countermeasure.verified_by),
        )
    )
    if countermeasure is None:
        abort(404, f"There is no countermeasure #{countermeasure_id}.")
    return countermeasure


def _credited_changes(countermeasure: Countermeasure) -> list[dict]:
    """The score changes this countermeasure brought, each with the residual score before."""
    # Sorted here: an ORDER BY tempts SQLite to walk the date index instead.
    changes = sorted(
        db.session.scalars(
            select(ThreatScoreChange)
            .where(ThreatScoreChange.countermeasure_id == countermeasure.id)
            .options(selectinload(ThreatScoreChange.threat))
        ),
        key=lambda c: (c.changed_on, c.id),
    )
    rows = []
    for change in changes:
        before = db.session.scalar(
            select(ThreatScoreChange.residual_score)
            .where(
                ThreatScoreChange.threat_id == change.threat_id,
                or_(
                    ThreatScoreChange.changed_on < change.changed_on,
                    and_(
                        ThreatScoreChange.changed_on == change.changed_on,
                        ThreatScoreChange.id < change.id,
                    ),
                ),
            )
            .order_by(ThreatScoreChange.changed_on.desc(), ThreatScoreChange.id.desc())
            .limit(1)
        )
        rows.append({"change": change, "before": before})
    return rows


def _status_form(countermeasure: Countermeasure, form: StatusForm | None = None) -> StatusForm:
    form = form or StatusForm(formdata=None)
    form.status.choices = [
        (s.name, s.label)
        for s in next_statuses(countermeasure)
        if s != CountermeasureStatus.DEPLOYED
    ]
    if form.changed_on.data is None and request.method == "GET":
        form.changed_on.data = fiscal.today()
    form.version.data = str(countermeasure.version)
    return form


def render_detail(countermeasure: Countermeasure, status_form: StatusForm | None = None, code=200):
    credited = _credited_changes(countermeasure)
    reduction = figures.residual_reduction(countermeasure)
    can_deploy = countermeasure.status in (
        CountermeasureStatus.PLANNED,
        CountermeasureStatus.IN_PROGRESS,
    )
    return (
        render_template(
            "countermeasures/detail.html",
            cm=countermeasure,
            mappings=countermeasure_mappings(countermeasure.id),
            credited=credited,
            reduction=reduction,
            status_form=_status_form(countermeasure, status_form),
            can_deploy=can_deploy,
            matrix=risk_matrix(),
            counts_in=fiscal.quarter_of_date(countermeasure.deployed_on)
            if countermeasure.deployed_on
            else None,
            target=fiscal.quarter_starting(countermeasure.target_quarter_start)
            if countermeasure.target_quarter_start
            else None,
        ),
        code,
    )


@bp.route("/countermeasures/<int:countermeasure_id>")
@readable
def detail(countermeasure_id: int):
    return render_detail(load_countermeasure(countermeasure_id))


def _prepare_form(form: CountermeasureForm, countermeasure: Countermeasure | None) -> None:
    """The form's choices, and on opening its values: the countermeasure's, or a new
    one's (``None``)."""
    offered = _set_choices(form, countermeasure)
    if request.method != "GET":
        return
    if countermeasure is None:
        _open_new(form, offered)
        return
    form.type.data = countermeasure.type.name
    form.threat_ids.data = [t.id for t in countermeasure.threats]
    form.owner_id.data = str(countermeasure.owner_id or "")
    form.target_quarter.data = (
        fiscal.quarter_starting(countermeasure.target_quarter_start).label
        if countermeasure.target_quarter_start
        else ""
    )
    form.version.data = str(countermeasure.version)


def _open_new(form: CountermeasureForm, offered: dict[int, str]) -> None:
    """Planned today by the person, for this quarter; with the threat it was opened from
    (in the list, or else among the other numbers)."""
    form.owner_id.data = str(current_user.id)
    form.target_quarter.data = fiscal.current_quarter().label
    form.planned_on.data = fiscal.today()
    preset = _int_arg("threat")
    if preset is not None:
        form.threat_ids.data = [preset]
        if preset not in offered:
            form.other_threats.data = str(preset)
            form.threat_ids.data = []


def _set_choices(form: CountermeasureForm, countermeasure: Countermeasure | None) -> dict:
    """The threats (the top ones and those it treats), owners and quarters to choose from;
    the threats offered, by id."""
    linked = list(countermeasure.threats) if countermeasure else []
    top = db.session.execute(
        select(Threat.id, Threat.title, Threat.residual_score)
        .where(Threat.archived_at.is_(None), Threat.status != ThreatStatus.CLOSED)
        .order_by(Threat.residual_score.desc(), Threat.inherent_score.desc(), Threat.id)
        .limit(THREAT_CHOICES)
    ).all()
    choices = {t.id: f"#{t.id} {t.title} (residual {t.residual_score})" for t in linked}
    for threat_id, title, residual in top:
        choices.setdefault(threat_id, f"#{threat_id} {title} (residual {residual})")
    form.threat_ids.choices = list(choices.items())
    form.owner_id.choices = [("", "— nobody yet —")] + [(str(u.id), u.name) for u in user_choices()]
    current = fiscal.current_quarter()
    quarters = [
        q
        for fy in (current.fiscal_year - 1, current.fiscal_year, current.fiscal_year + 1)
        for q in quarters_of_fiscal_year(fy, current.start_month)
    ]
    if countermeasure and countermeasure.target_quarter_start:
        stored = fiscal.quarter_starting(countermeasure.target_quarter_start)
        if stored not in quarters:
            quarters = sorted([*quarters, stored])
    form.target_quarter.choices = [("", "— none —")] + [(q.label, q.label) for q in quarters]
    return choices


def _form_values(form: CountermeasureForm) -> dict:
    # The schema reads the form's text ("" as none); threats come from two fields.
    return {
        **{name: form[name].data for name in EDITED},
        "threat_ids": form.all_threat_ids(),
    }


@bp.route("/countermeasures/new", methods=["GET", "POST"])
@roles(Role.SECURITY)
def new():
    form = CountermeasureForm()
    _prepare_form(form, None)
    if form.validate_on_submit():
        values = _form_values(form)
        values["planned_on"] = form.planned_on.data
        if form.deployed_on.data is not None:
            # An existing control, recorded as deployed on that day.
            values["status"] = CountermeasureStatus.DEPLOYED
            values["deployed_on"] = form.deployed_on.data
        with saved_or_shown(form) as outcome:
            countermeasure = create_countermeasure(**values, user_id=current_user.id)
        if outcome.saved:
            flash(f"Countermeasure “{countermeasure.title}” planned.", "success")
            warn_if_published(countermeasure.planned_on)
            return redirect(url_for("countermeasures.detail", countermeasure_id=countermeasure.id))
    return render_template("countermeasures/form.html", form=form, cm=None)


@bp.route("/countermeasures/<int:countermeasure_id>/edit", methods=["GET", "POST"])
@roles(Role.SECURITY)
def edit(countermeasure_id: int):
    countermeasure = load_countermeasure(countermeasure_id)
    form = (
        CountermeasureForm(obj=countermeasure) if request.method == "GET" else CountermeasureForm()
    )
    _prepare_form(form, countermeasure)
    if form.validate_on_submit():
        values = _form_values(form)
        deployed_before = countermeasure.deployed_on
        if countermeasure.deployed_on is not None:
            values["deployed_on"] = form.deployed_on.data
        with saved_or_shown(form) as outcome:
            update_countermeasure(
                countermeasure,
                **values,
                version=form.version.data,
                user_id=current_user.id,
            )
        if outcome.conflict:
            return render_template(
                "countermeasures/form.html", form=form, cm=load_countermeasure(countermeasure_id)
            ), 409
        if outcome.saved:
            flash("Countermeasure saved.", "success")
            if countermeasure.deployed_on != deployed_before:
                warn_if_published(earliest(deployed_before, countermeasure.deployed_on))
            return redirect(url_for("countermeasures.detail", countermeasure_id=countermeasure.id))
    return render_template("countermeasures/form.html", form=form, cm=countermeasure)


def warn_if_published(day) -> None:
    message = correction_warning(day)
    if message:
        flash(message, "warning")
