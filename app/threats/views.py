"""Pages of the threat register. Views parse and render; rules live in the service."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app import fiscal, validation
from app.admin.corrections import confirm_and_delete
from app.catalogues.queries import threat_mappings
from app.domain.scoring import Level, level_for
from app.domain.scoring_methods import DREAD_FACTORS, OWASP_FACTORS, Method, inputs_for_reading
from app.extensions import db
from app.models.audit import audit_trail, audit_trail_length
from app.models.countermeasures import Countermeasure, countermeasure_threats
from app.models.systems import System
from app.models.threats import (
    Tag,
    Threat,
    ThreatCategory,
    ThreatFeed,
    ThreatScoreChange,
    ThreatStateChange,
    ThreatStatus,
    Treatment,
)
from app.models.user import Role, User
from app.reports.service import published_reports_differing
from app.security import readable, roles
from app.threats import bp, figures, queries, risk
from app.threats.archive import archive_threat, purge_threat, restore_threat
from app.threats.checks import assess_inputs
from app.threats.forms import (
    CategoryForm,
    DatedActionForm,
    ReviewForm,
    RiskSettingsForm,
    ScoringMethodsForm,
    ThreatForm,
)
from app.threats.parsing import APPROVER_ROLES, SCORE_FIELDS
from app.threats.risk import method_rules, review_intervals, risk_matrix
from app.threats.service import create_threat, update_threat
from app.threats.settings import save_category, save_method_bands, save_risk_settings
from app.threats.states import acceptance_needs_decision, review_overdue, review_threat
from app.validation import ConflictError, InputError, apply_errors_to_form, saved_or_shown

PER_PAGE = 25
# The factor grids of the threat form.
FACTOR_NAMES = {"owasp_factors": list(OWASP_FACTORS), "dread_factors": list(DREAD_FACTORS)}
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


@bp.route("/threats")
@readable
def index():
    f = _filters()
    today = fiscal.today()
    page = _paginate(queries.register_query(f, today))
    categories, users, systems = _choices()
    top_n = _int_arg("top", 1, MAX_TOP)
    top = figures.top_threats(today, top_n) if top_n else None
    tags = db.session.scalars(select(Tag.name).order_by(Tag.name).limit(300)).all()
    return render_template(
        "threats/index.html",
        page=page,
        f=f,
        today=today,
        matrix=risk_matrix(),
        categories=categories,
        users=users,
        systems=systems,
        tags=tags,
        statuses=list(ThreatStatus),
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
            countermeasure_threats, countermeasure_threats.c.countermeasure_id == Countermeasure.id
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


def _prepare_form(form: ThreatForm, threat: Threat | None) -> None:
    categories, users, systems = _choices()
    matrix = risk_matrix()
    form.category_id.choices = [("", "—")] + [
        (str(c.id), c.name)
        for c in categories
        if c.active or (threat is not None and threat.category_id == c.id)
    ]
    feeds = db.session.execute(select(ThreatFeed.id, ThreatFeed.name).order_by(ThreatFeed.name))
    form.feed_id.choices = [("", "—")] + [(str(i), n) for i, n in feeds]
    form.owner_id.choices = [("", "Nobody yet")] + [
        (str(u.id), u.name)
        for u in users
        if u.is_active_account or (threat is not None and threat.owner_id == u.id)
    ]
    form.acceptance_approver_id.choices = [("", "—")] + [
        (str(u.id), f"{u.name} ({u.role.label})")
        for u in users
        if u.role in APPROVER_ROLES and u.is_active_account
    ]
    form.system_ids.choices = [(str(s.id), s.name) for s in systems]
    likelihoods = [
        (str(n), f"{n} · {label}") for n, label in enumerate(matrix.likelihood_labels, 1)
    ]
    impacts = [(str(n), f"{n} · {label}") for n, label in enumerate(matrix.impact_labels, 1)]
    form.inherent_likelihood.choices = likelihoods
    form.residual_likelihood.choices = likelihoods
    form.inherent_impact.choices = impacts
    form.residual_impact.choices = impacts


def _fill_form(form: ThreatForm, threat: Threat) -> None:
    form.title.data = threat.title
    form.description.data = threat.description
    form.category_id.data = str(threat.category_id or "")
    form.source.data = threat.source.value
    form.feed_id.data = str(threat.feed_id or "")
    form.owner_id.data = str(threat.owner_id or "")
    form.status.data = threat.status.value
    form.identified_on.data = threat.identified_on
    form.next_review_on.data = threat.next_review_on
    form.system_ids.data = [str(s.id) for s in threat.systems]
    form.tags.data = ", ".join(t.name for t in threat.tags)
    for name in SCORE_FIELDS:
        getattr(form, name).data = str(getattr(threat, name))
    form.fill_method(
        threat.scoring_method,
        inputs_for_reading(Method(threat.scoring_method), threat.scoring_inputs),
    )
    form.treatment.data = threat.treatment.value if threat.treatment else ""
    form.treatment_rationale.data = threat.treatment_rationale
    form.acceptance_approver_id.data = str(threat.acceptance_approver_id or "")
    form.acceptance_expires_on.data = threat.acceptance_expires_on
    form.version.data = str(threat.version)


@bp.route("/threats/new", methods=["GET", "POST"])
@roles(Role.SECURITY)
def new():
    form = ThreatForm()
    _prepare_form(form, None)
    if request.method == "GET":
        form.identified_on.data = fiscal.today()
        form.owner_id.data = str(current_user.id)
        for name in SCORE_FIELDS:
            getattr(form, name).data = "3"
    derived = _derived(form)
    if derived is None and form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            threat = create_threat(form.values(), current_user.id)
        if outcome.saved:
            flash(f"Threat “{threat.title}” logged.", "success")
            return redirect(url_for("threats.detail", threat_id=threat.id))
    return render_template(
        "threats/form.html",
        form=form,
        threat=None,
        matrix=risk_matrix(),
        derived=derived,
        **FACTOR_NAMES,
    )


def _derived(form: ThreatForm):
    """ "Work out the cell" pressed: what the method makes of the inputs, nothing saved.

    Returns the assessment, or "" when the inputs are refused (the message is then beside
    the field); None when the button was not pressed.
    """
    if request.method != "POST" or not form.derive.data or not form.validate_method_only():
        return None
    try:
        assessment = assess_inputs(form.method.value, form.method_inputs())
    except InputError as error:
        apply_errors_to_form(form, error)
        return ""
    if assessment is not None:
        form.inherent_likelihood.data = str(assessment.likelihood)
        form.inherent_impact.data = str(assessment.impact)
    return assessment or ""


@bp.route("/threats/<int:threat_id>/edit", methods=["GET", "POST"])
@roles(Role.SECURITY)
def edit(threat_id: int):
    threat = db.get_or_404(Threat, threat_id)
    if threat.archived_at is not None:
        flash("Restore this threat before editing it.", "warning")
        return redirect(url_for("threats.detail", threat_id=threat.id))
    form = ThreatForm()
    _prepare_form(form, threat)
    if request.method == "GET":
        _fill_form(form, threat)
        form.scored_on.data = fiscal.today()
        form.status_changed_on.data = fiscal.today()
    conflict = None
    derived = _derived(form)
    if derived is None and form.validate_on_submit():
        version = form.version.data
        expected = int(version) if version and version.isdigit() else None
        try:
            update_threat(threat, form.values(), current_user.id, expected)
            db.session.commit()
        except InputError as error:
            db.session.rollback()
            apply_errors_to_form(form, error)
        except (ConflictError, StaleDataError) as error:
            db.session.rollback()
            conflict = getattr(error, "message", None) or ConflictError().message
        else:
            flash("Threat saved.", "success")
            _warn_published(form.status_changed_on.data, form.scored_on.data)
            return redirect(url_for("threats.detail", threat_id=threat.id))
    status = 409 if conflict else 200
    return (
        render_template(
            "threats/form.html",
            form=form,
            threat=threat,
            matrix=risk_matrix(),
            conflict=conflict,
            derived=derived,
            **FACTOR_NAMES,
        ),
        status,
    )


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


def _act(threat_id: int, action, done: str, target: str = "detail"):
    threat = db.get_or_404(Threat, threat_id)
    title = threat.title
    form = DatedActionForm()
    form.validate()
    on = form.on.data
    if form.on.errors:
        flash("Give the date as YYYY-MM-DD.", "danger")
        return redirect(url_for("threats.detail", threat_id=threat_id))
    try:
        action(threat, current_user.id, on=on)
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()) or str(error), "danger")
        return redirect(url_for("threats.detail", threat_id=threat_id))
    flash(done.format(title=title), "success")
    _warn_published(on)
    if target == "index":
        return redirect(url_for("threats.index"))
    return redirect(url_for("threats.detail", threat_id=threat_id))


@bp.route("/threats/<int:threat_id>/archive", methods=["POST"])
@roles(Role.SECURITY)
def archive(threat_id: int):
    return _act(
        threat_id,
        archive_threat,
        "“{title}” archived: it has left the register (restore it from the archived list).",
        "index",
    )


@bp.route("/threats/<int:threat_id>/restore", methods=["POST"])
@roles(Role.SECURITY)
def restore(threat_id: int):
    return _act(threat_id, restore_threat, "“{title}” is back on the register.")


@bp.route("/threats/<int:threat_id>/review", methods=["POST"])
@roles(Role.SECURITY)
def review(threat_id: int):
    threat = db.get_or_404(Threat, threat_id)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            review_threat(
                threat,
                current_user.id,
                on=form.reviewed_on.data,
                outcome=form.outcome.data or "",
                next_review_on=form.next_review_on.data,
            )
            db.session.commit()
        except InputError as error:
            db.session.rollback()
            flash(" ".join(error.errors.values()) or str(error), "danger")
        else:
            next_on = threat.next_review_on
            flash(
                f"Review recorded; next review {next_on.isoformat()}."
                if next_on
                else "Review recorded.",
                "success",
            )
            _warn_published(form.reviewed_on.data)
    else:
        for name, errors in form.errors.items():
            flash(f"{getattr(form, name).label.text}: {errors[0]}", "danger")
    return redirect(url_for("threats.detail", threat_id=threat_id))


# Corrections: an administrator deletes a fact that was never true. Everyday changes are
# dated entries instead (edit, archive, review), which keep the history whole.


def _correct(threat: Threat, fact, effective_on: date, remove, done: str):
    return confirm_and_delete(
        fact=fact,
        effective_on=effective_on,
        remove=remove,
        done=done,
        back_url=url_for("threats.detail", threat_id=threat.id),
        back_label=threat.title,
        everyday="re-score, archive or record a review on the threat's page",
    )


@bp.route("/threats/<int:threat_id>/assessments/<int:change_id>/delete", methods=["GET", "POST"])
@roles(Role.ADMIN)
def delete_assessment(threat_id: int, change_id: int):
    threat = db.get_or_404(Threat, threat_id)
    change = db.get_or_404(ThreatScoreChange, change_id)
    if change.threat_id != threat.id:
        abort(404)
    fact = [
        ("Threat", threat.title),
        ("Assessment of", change.changed_on.isoformat()),
        ("Inherent", f"{change.inherent_likelihood} × {change.inherent_impact}"),
        ("Residual", f"{change.residual_likelihood} × {change.residual_impact}"),
        ("Note", change.note or "—"),
    ]
    return _correct(
        threat,
        fact,
        change.changed_on,
        lambda: risk.remove_score_change(threat, change),
        f"The assessment of {change.changed_on.isoformat()} is deleted.",
    )


@bp.route("/threats/<int:threat_id>/history/<int:entry_id>/delete", methods=["GET", "POST"])
@roles(Role.ADMIN)
def delete_state_entry(threat_id: int, entry_id: int):
    threat = db.get_or_404(Threat, threat_id)
    entry = db.get_or_404(ThreatStateChange, entry_id)
    if entry.threat_id != threat.id:
        abort(404)
    fact = [
        ("Threat", threat.title),
        ("Entry", f"{entry.kind.label} on {entry.changed_on.isoformat()}"),
        ("Status", entry.status.label + (" · archived" if entry.archived else "")),
        ("Next review", entry.next_review_on.isoformat() if entry.next_review_on else "—"),
        ("Note", entry.note or "—"),
    ]
    return _correct(
        threat,
        fact,
        entry.changed_on,
        lambda: risk.remove_state_change(threat, entry),
        f"The entry of {entry.changed_on.isoformat()} is deleted.",
    )


@bp.route("/threats/<int:threat_id>/purge", methods=["GET", "POST"])
@roles(Role.ADMIN)
def purge(threat_id: int):
    threat = db.get_or_404(Threat, threat_id)
    title = threat.title
    days = [threat.identified_on]
    days += [c.changed_on for c in threat.score_changes]
    days += [s.changed_on for s in threat.state_changes]
    fact = [
        ("Threat", title),
        ("Identified", threat.identified_on.isoformat()),
        (
            "History",
            f"{len(threat.score_changes)} assessments, {len(threat.state_changes)} entries",
        ),
    ]

    def remove():
        purge_threat(threat, current_user.id)
        return url_for("threats.index", archived="1")

    return _correct(
        threat,
        fact,
        min(days),
        remove,
        f"“{title}” purged for good (the audit log keeps its trace).",
    )


def _recent_quarters(today: date, count: int = 8) -> list[fiscal.Quarter]:
    quarters: list[fiscal.Quarter] = []
    quarter = fiscal.current_quarter().previous()
    while len(quarters) < count:
        quarters.append(quarter)
        quarter = quarter.previous()
    return quarters


@bp.route("/heatmap")
@readable
def heatmap():
    kind = request.args.get("kind", "residual")
    if kind not in figures.KINDS:
        abort(404, "The heat map is either inherent or residual.")
    label = request.args.get("quarter", "").strip()
    quarter = fiscal.quarter_or_404(label) if label else None
    today = fiscal.today()
    if quarter is not None and quarter.last_day > today:
        abort(404, f"{quarter.label} has not ended yet; choose a past quarter or today.")
    as_of = quarter.last_day if quarter else today
    matrix = risk_matrix()
    cells = figures.heatmap_as_of(as_of, kind)
    return render_template(
        "threats/heatmap.html",
        kind=kind,
        quarter=quarter,
        as_of=as_of,
        today=today,
        cells=cells,
        total=sum(cells.values()),
        matrix=matrix,
        level_for=lambda s: level_for(s, matrix),
        quarters=_recent_quarters(today),
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


@bp.route("/threats/categories", methods=["GET", "POST"])
@roles(Role.ADMIN)
def categories():
    form = CategoryForm()
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            category = save_category(form.name.data)
        if outcome.saved:
            flash(f"Category {category.name} added.", "success")
            return redirect(url_for("threats.categories"))
    counts = dict(
        db.session.execute(
            select(Threat.category_id, func.count())
            .where(Threat.archived_at.is_(None))
            .group_by(Threat.category_id)
        ).all()
    )
    rows = db.session.scalars(select(ThreatCategory).order_by(ThreatCategory.name)).all()
    return render_template("threats/categories.html", form=form, rows=rows, counts=counts)


@bp.route("/threats/categories/<int:category_id>", methods=["POST"])
@roles(Role.ADMIN)
def edit_category(category_id: int):
    category = db.get_or_404(ThreatCategory, category_id)
    action = request.form.get("action")
    if action == "rename":
        try:
            # A raw form field (no form class here): refuse a NUL before it reaches a query.
            validation.check_characters("name", request.form.get("name", ""), multiline=False)
            save_category(request.form.get("name", ""), category)
            db.session.commit()
        except InputError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            flash(f"Category renamed to {category.name}.", "success")
    elif action in ("retire", "reuse"):
        category.active = action == "reuse"
        db.session.commit()
        state = "back in use" if category.active else "retired (existing threats keep it)"
        flash(f"Category {category.name} {state}.", "success")
    else:
        abort(400, "Unknown action.")
    return redirect(url_for("threats.categories"))


@bp.route("/threats/settings", methods=["GET", "POST"])
@roles(Role.ADMIN)
def risk_settings():
    matrix = risk_matrix()
    intervals = review_intervals()
    form = RiskSettingsForm()
    if request.method == "GET":
        form.likelihood_labels.data = "\n".join(matrix.likelihood_labels)
        form.impact_labels.data = "\n".join(matrix.impact_labels)
        minimums = dict(matrix.thresholds)
        form.threshold_medium.data = minimums.get(Level.MEDIUM)
        form.threshold_high.data = minimums.get(Level.HIGH)
        form.threshold_critical.data = minimums.get(Level.CRITICAL)
        for level in Level:
            getattr(form, f"interval_{level.value}").data = intervals.get(level)
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            save_risk_settings(
                form.likelihood_labels.data,
                form.impact_labels.data,
                {
                    Level.MEDIUM: form.threshold_medium.data,
                    Level.HIGH: form.threshold_high.data,
                    Level.CRITICAL: form.threshold_critical.data,
                },
                {level: getattr(form, f"interval_{level.value}").data for level in Level},
            )
        if outcome.saved:
            flash("Risk settings saved.", "success")
            return redirect(url_for("threats.risk_settings"))
    return render_template("threats/settings.html", form=form, matrix=matrix)


@bp.route("/threats/settings/scoring", methods=["GET", "POST"])
@roles(Role.ADMIN)
def scoring_settings():
    matrix = risk_matrix()
    rules = method_rules(matrix)
    form = ScoringMethodsForm()
    if request.method == "GET":
        for method, bands in rules.bands.items():
            for axis in ("likelihood", "impact"):
                cuts = getattr(bands, axis)
                getattr(form, f"{method.value}_{axis}").data = ", ".join(str(c) for c in cuts)
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            save_method_bands(
                {
                    name: form[name].data
                    for name in form._fields
                    if name.endswith(("_likelihood", "_impact"))
                }
            )
        if outcome.saved:
            flash("Scoring rules saved: they apply to assessments recorded from now on.", "success")
            return redirect(url_for("threats.scoring_settings"))
    return render_template("threats/scoring_settings.html", form=form, matrix=matrix)
