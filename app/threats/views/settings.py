"""The register's settings pages: categories, the risk matrix and review intervals, the
scoring methods' bands."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app import validation
from app.domain.scoring import Level
from app.extensions import db
from app.forms import saved_settings
from app.models.threats import Threat, ThreatCategory
from app.models.user import Role
from app.security import roles
from app.threats import bp
from app.threats.forms import CategoryForm, RiskSettingsForm, ScoringMethodsForm
from app.threats.risk import method_rules, review_intervals, risk_matrix
from app.threats.settings import save_category, save_method_bands, save_risk_settings
from app.validation import Refusals, saved_or_shown, saved_then_back


@bp.route("/threats/categories", methods=["GET", "POST"])
@roles(Role.ADMIN)
def categories():
    form = CategoryForm()
    added = saved_then_back(
        form,
        lambda: save_category(form.name.data),
        lambda category: f"Category {category.name} added.",
        url_for("threats.categories"),
    )
    if added:
        return added
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
        with saved_or_shown(Refusals()) as outcome:
            # A raw form field (no form class here): refuse a NUL before it reaches a query.
            validation.check_characters("name", request.form.get("name", ""), multiline=False)
            save_category(request.form.get("name", ""), category)
        if outcome.saved:
            flash(f"Category renamed to {category.name}.", "success")
        else:
            flash(str(outcome.refusal or outcome.conflict), "danger")
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

    def fill() -> None:
        form.likelihood_labels.data = "\n".join(matrix.likelihood_labels)
        form.impact_labels.data = "\n".join(matrix.impact_labels)
        minimums = dict(matrix.thresholds)
        form.threshold_medium.data = minimums.get(Level.MEDIUM)
        form.threshold_high.data = minimums.get(Level.HIGH)
        form.threshold_critical.data = minimums.get(Level.CRITICAL)
        for level in Level:
            getattr(form, f"interval_{level.value}").data = intervals.get(level)

    def save() -> None:
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

    saved = saved_settings(form, fill, save, "Risk settings saved.", "threats.risk_settings")
    return saved or render_template("threats/settings.html", form=form, matrix=matrix)


@bp.route("/threats/settings/scoring", methods=["GET", "POST"])
@roles(Role.ADMIN)
def scoring_settings():
    matrix = risk_matrix()
    rules = method_rules(matrix)
    form = ScoringMethodsForm()

    def fill() -> None:
        for method, bands in rules.bands.items():
            for axis in ("likelihood", "impact"):
                cuts = getattr(bands, axis)
                getattr(form, f"{method.value}_{axis}").data = ", ".join(str(c) for c in cuts)

    def save() -> None:
        save_method_bands(
            {
                name: form[name].data
                for name in form._fields
                if name.endswith(("_likelihood", "_impact"))
            }
        )

    saved = saved_settings(
        form,
        fill,
        save,
        "Scoring rules saved: they apply to assessments recorded from now on.",
        "threats.scoring_settings",
    )
    return saved or render_template("threats/scoring_settings.html", form=form, matrix=matrix)
