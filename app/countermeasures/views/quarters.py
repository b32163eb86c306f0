"""The quarterly targets' settings, the quarter pages, and the evidence links filter."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app import fiscal
from app.countermeasures import bp, figures
from app.countermeasures.forms import TargetsForm
from app.countermeasures.service import set_targets
from app.countermeasures.views.register import PER_PAGE
from app.extensions import db
from app.security import readable, roles
from app.threats.risk import risk_matrix
from app.validation import saved_or_shown

# --- targets --------------------------------------------------------------------------


@bp.route("/countermeasures/settings", methods=["GET", "POST"])
@roles()
def settings():
    form = TargetsForm()
    if request.method == "GET":
        form.per_quarter.data = figures.quarter_target()
        form.yearly_goal.data = figures.yearly_goal()
    if form.validate_on_submit():
        with saved_or_shown(form) as outcome:
            set_targets(per_quarter=form.per_quarter.data, yearly_goal=form.yearly_goal.data)
        if outcome.saved:
            flash("Countermeasure targets saved.", "success")
            return redirect(url_for("countermeasures.settings"))
    return render_template("countermeasures/settings.html", form=form)


# --- quarters -------------------------------------------------------------------------


@bp.route("/quarters")
@readable
def current_quarter():
    label = request.args.get("quarter", "").strip()
    quarter = fiscal.quarter_or_404(label) if label else fiscal.current_quarter()
    return redirect(url_for("countermeasures.quarter", label=quarter.slug))


@bp.route("/quarters/<label>")
@readable
def quarter(label: str):
    quarter = fiscal.quarter_or_404(label)
    target = figures.quarter_target()
    goal = figures.yearly_goal()
    deployed_page = db.paginate(
        figures.deployed_in_quarter_query(quarter), per_page=PER_PAGE, error_out=False
    )
    reductions = figures.residual_reductions_for(cm.id for cm in deployed_page.items)
    slipped_total = figures.slipped_count(quarter)
    slipped = db.session.scalars(figures.slipped_query(quarter).limit(PER_PAGE)).all()
    today = fiscal.today()
    return render_template(
        "countermeasures/quarter.html",
        quarter=quarter,
        target=target,
        goal=goal,
        deployed=figures.countermeasures_deployed(quarter),
        to_date=figures.countermeasures_deployed_to_date(quarter),
        deployed_page=deployed_page,
        reductions=reductions,
        top=figures.top_threats_treated(quarter, target),
        slipped=slipped,
        slipped_total=slipped_total,
        quarter_over=quarter.last_day < today,
        quarter_started=quarter.first_day <= today,
        matrix=risk_matrix(),
    )


@bp.app_template_filter("evidence_links")
def evidence_links(text: str):
    """Evidence text with its http(s) links clickable; everything else escaped."""
    import re

    from markupsafe import Markup, escape

    parts = re.split(r"(https?://[^\s<>\"']+)", text or "")
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            url = escape(part)
            out.append(Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(url))
        else:
            out.append(escape(part))
    return Markup("").join(out)
