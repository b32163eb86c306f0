"""OKR pages: the fiscal year's objectives in the deck's layout, objective and KR pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from app import fiscal
from app.domain.okrs import format_number
from app.domain.quarters import Quarter, fiscal_year_label, quarters_of_fiscal_year
from app.extensions import db
from app.metrics import get_metric
from app.models.audit import audit_trail
from app.models.okrs import KeyResult, KeyResultStatus, Objective, Rating
from app.models.user import Role
from app.okrs import bp, service
from app.okrs.figures import (
    fiscal_years_with_objectives,
    kr_row,
    kr_table,
    narrative_text,
    objectives_of_year,
)
from app.okrs.forms import KeyResultForm, NarrativeForm, ObjectiveForm, StatusForm
from app.okrs.inputs import OBJECTIVE_FIELDS
from app.security import readable, roles
from app.validation import Refusals, saved_or_shown

WRITERS = (Role.MANAGER,)


@bp.app_template_filter("number")
def number_filter(value: float | None) -> str:
    return format_number(value)


def _year_label(year: int) -> str:
    return fiscal_year_label(year, fiscal.start_month())


def _quarters(year: int) -> list[Quarter]:
    return quarters_of_fiscal_year(year, fiscal.start_month())


def _latest_narrative(objective: Objective) -> tuple[Quarter | None, str]:
    """The most recent quarter's paragraph, up to the current quarter."""
    current = fiscal.current_quarter()
    found: tuple[Quarter | None, str] = (None, "")
    for narrative in objective.narratives:
        quarter = fiscal.quarter_starting(narrative.quarter_start)
        if quarter.fiscal_year == objective.fiscal_year and quarter <= current and narrative.text:
            found = (quarter, narrative.text)
    return found


@bp.route("/okrs")
@readable
def index():
    label = request.args.get("year", "").strip()
    year = fiscal.fiscal_year_or_400(label) if label else fiscal.current_quarter().fiscal_year
    objectives = objectives_of_year(year)
    years = sorted(
        set(fiscal_years_with_objectives()) | {year, fiscal.current_quarter().fiscal_year}
    )
    sections = [
        {
            "objective": objective,
            "rows": kr_table(objective, year),
            "narrative": _latest_narrative(objective),
        }
        for objective in objectives
    ]
    return render_template(
        "okrs/index.html",
        year=year,
        year_label=_year_label(year),
        years=[(_year_label(y), y) for y in years],
        sections=sections,
        quarters=_quarters(year),
    )


# What the objective's and the key result's pages show of their related rows.
OBJECTIVE_LOADS = (
    selectinload(Objective.narratives),
    selectinload(Objective.key_results)
    .selectinload(KeyResult.statuses)
    .selectinload(KeyResultStatus.author),
)
KEY_RESULT_LOADS = (
    selectinload(KeyResult.objective),
    selectinload(KeyResult.statuses).selectinload(KeyResultStatus.author),
)


def _one_or_404(model: type[Objective] | type[KeyResult], record_id: int, loads: tuple, what: str):
    query = select(model).where(model.id == record_id).options(*loads)
    return db.first_or_404(query, description=f"There is no such {what}.")


def _objective_or_404(objective_id: int) -> Objective:
    return _one_or_404(Objective, objective_id, OBJECTIVE_LOADS, "objective")


def _narrative_form(objective: Objective, form: NarrativeForm | None = None) -> NarrativeForm:
    form = form or NarrativeForm()
    form.quarter.choices = [(q.label, q.label) for q in _quarters(objective.fiscal_year)]
    if not form.quarter.data or request.method == "GET":
        quarter = _default_quarter(objective.fiscal_year)
        form.quarter.data = quarter.label
        form.text.data = narrative_text(objective, quarter)
    return form


def _render_objective(objective: Objective, narrative_form: NarrativeForm, status: int = 200):
    quarters = _quarters(objective.fiscal_year)
    return (
        render_template(
            "okrs/objective.html",
            objective=objective,
            year_label=_year_label(objective.fiscal_year),
            rows=kr_table(objective),
            quarters=quarters,
            narratives=[(q, narrative_text(objective, q)) for q in quarters],
            narrative_form=narrative_form,
        ),
        status,
    )


@bp.route("/okrs/<int:objective_id>")
@readable
def objective(objective_id: int):
    found = _objective_or_404(objective_id)
    return _render_objective(found, _narrative_form(found))


@bp.route("/okrs/<int:objective_id>/narrative", methods=["POST"])
@roles(*WRITERS)
def save_narrative(objective_id: int):
    found = _objective_or_404(objective_id)
    form = _narrative_form(found, NarrativeForm())
    if form.validate_on_submit():
        with saved_or_shown(form, refused_status=422) as outcome:
            service.set_narrative(found, form.quarter.data, form.text.data)
        if outcome.saved:
            flash(f"Narrative for {form.quarter.data} saved.", "success")
            return redirect(url_for("okrs.objective", objective_id=objective_id))
        # Read again: the refused change was rolled back.
        return _render_objective(_objective_or_404(objective_id), form, outcome.status)
    return _render_objective(found, form, 422)


def _objective_values(form: ObjectiveForm) -> dict:
    return {name: getattr(form, name).data for name in OBJECTIVE_FIELDS}


def _page_of(record: Objective | KeyResult) -> str:
    if isinstance(record, Objective):
        return url_for("okrs.objective", objective_id=record.id)
    return url_for("okrs.key_result", kr_id=record.id)


def _saved(form, write: Callable[[], Any], said: Callable[[Any], str]) -> Response | None:
    """``write`` committed, then the record's page with ``said`` flashed; None when it was
    refused (the form shows why beside its fields)."""
    with saved_or_shown(form) as outcome:
        record = write()
    if not outcome.saved:
        return None
    flash(said(record), "success")
    return redirect(_page_of(record))


def _objective_form(found: Objective) -> ObjectiveForm:
    """The edit form: the objective's values to start from, then those posted."""
    if request.method != "GET":
        return ObjectiveForm()
    form = ObjectiveForm(obj=found)
    form.fiscal_year.data = _year_label(found.fiscal_year)
    form.position.data = str(found.position)
    return form


@bp.route("/okrs/new", methods=["GET", "POST"])
@roles(*WRITERS)
def new_objective():
    form = ObjectiveForm()
    if request.method == "GET":
        year = request.args.get("year") or _year_label(fiscal.current_quarter().fiscal_year)
        form.fiscal_year.data = year
    if form.validate_on_submit():
        create = partial(service.create_objective, **_objective_values(form))
        saved = _saved(form, create, lambda created: f"Objective {created.title} created.")
        if saved is not None:
            return saved
    return render_template("okrs/objective_form.html", form=form, objective=None)


@bp.route("/okrs/<int:objective_id>/edit", methods=["GET", "POST"])
@roles(*WRITERS)
def edit_objective(objective_id: int):
    found = _objective_or_404(objective_id)
    form = _objective_form(found)
    if form.validate_on_submit():
        update = partial(service.update_objective, found, **_objective_values(form))
        saved = _saved(form, update, lambda _: f"Objective {found.title} saved.")
        if saved is not None:
            return saved
    return render_template("okrs/objective_form.html", form=form, objective=found)


def _key_result_values(form: KeyResultForm) -> dict:
    return {
        name: getattr(form, name).data
        for name in (*service.KEY_RESULT_FIELDS, "baseline_quarter", "position")
    }


def _key_result_form(objective: Objective, **kwargs) -> KeyResultForm:
    """The form with the objective's quarters to choose the baseline quarter from (all but
    the last: a goal needs a quarter after its baseline)."""
    quarters = quarters_of_fiscal_year(objective.fiscal_year, fiscal.start_month())
    return KeyResultForm(quarters=[q.label for q in quarters[:-1]], **kwargs)


def _edit_form(objective: Objective, found: KeyResult) -> KeyResultForm:
    """The edit form: the key result's values to start from, then those posted."""
    if request.method != "GET":
        return _key_result_form(objective)
    form = _key_result_form(objective, obj=found)
    form.baseline_quarter.data = service.baseline_quarter_label(found)
    form.baseline_value.data = _number_text(found.baseline_value)
    form.goal_value.data = _number_text(found.goal_value)
    form.goal_direction.data = found.goal_direction.value if found.goal_direction else ""
    form.metric.data = found.metric or ""
    form.position.data = str(found.position)
    return form


def _number_text(value: float | None) -> str:
    return format_number(value)


@bp.route("/okrs/<int:objective_id>/key-results/new", methods=["GET", "POST"])
@roles(*WRITERS)
def new_key_result(objective_id: int):
    found = _objective_or_404(objective_id)
    form = _key_result_form(found)
    if request.method == "GET":
        form.code.data = f"KR{len(found.key_results) + 1}"
    if form.validate_on_submit():
        create = partial(service.create_key_result, found, **_key_result_values(form))
        added = f"added to {found.title}."
        saved = _saved(form, create, lambda kr: f"{kr.code or 'Key result'} {added}")
        if saved is not None:
            return saved
        found = _objective_or_404(objective_id)  # read again: the change was rolled back
    return render_template("okrs/key_result_form.html", form=form, objective=found, key_result=None)


def _key_result_or_404(kr_id: int) -> KeyResult:
    return _one_or_404(KeyResult, kr_id, KEY_RESULT_LOADS, "key result")


@bp.route("/key-results/<int:kr_id>/edit", methods=["GET", "POST"])
@roles(*WRITERS)
def edit_key_result(kr_id: int):
    found = _key_result_or_404(kr_id)
    form = _edit_form(found.objective, found)
    if form.validate_on_submit():
        update = partial(service.update_key_result, found, **_key_result_values(form))
        saved = _saved(form, update, lambda _: f"{found.code or 'Key result'} saved.")
        if saved is not None:
            return saved
        found = _key_result_or_404(kr_id)  # read again: the change was rolled back
    return render_template(
        "okrs/key_result_form.html", form=form, objective=found.objective, key_result=found
    )


def _default_quarter(year: int) -> Quarter:
    """The quarter to write about: the last complete one, else the running one, else Q1."""
    quarters = _quarters(year)
    started = [q for q in quarters if q.first_day <= fiscal.today()]
    if not started:
        return quarters[0]
    complete = [q for q in started if q.last_day < fiscal.today()]
    return complete[-1] if complete else started[-1]


def _status_form(kr: KeyResult, rows, form: StatusForm | None = None) -> StatusForm:
    """The status form for ?quarter=..., prefilled with the written or proposed status."""
    quarters = _quarters(kr.objective.fiscal_year)
    fresh = form is None
    form = form or StatusForm()
    form.quarter.choices = [(q.label, q.label) for q in quarters]
    if fresh:
        try:
            wanted = fiscal.quarter_or_none(request.args.get("quarter"))
        except fiscal.QuarterError:
            wanted = None
        if wanted not in quarters:
            wanted = _default_quarter(kr.objective.fiscal_year)
        _fill_status_form(form, rows, quarters, wanted)
    return form


def _fill_status_form(form: StatusForm, rows, quarters: list[Quarter], wanted: Quarter) -> None:
    """The quarter's written status, else the register's proposal (never another quarter's)."""
    cell = rows[0].quarters[quarters.index(wanted)]
    form.quarter.data = wanted.label
    form.loaded_quarter.data = wanted.label
    if cell.has_status:
        form.text.data = cell.status_text
        form.value.data = _number_text(cell.value)
        form.rating.data = cell.rating.value if cell.rating else ""
    else:
        form.text.data = cell.proposed or ""
        form.value.data = _number_text(cell.computed)
        form.rating.data = ""


def _status_history(kr: KeyResult) -> list[dict]:
    """Every write of this KR's current statuses, newest first, as the audit log has it."""
    quarters = {
        str(status.id): fiscal.quarter_starting(status.quarter_start).label
        for status in kr.statuses
    }
    if not quarters:
        return []
    history = []
    for entry in audit_trail("KeyResultStatus", quarters, 100):
        new = entry.new_values or {}
        rating = new.get("rating")
        history.append(
            {
                "at": entry.at,
                "who": entry.user.name if entry.user else entry.actor,
                "action": {"create": "written", "update": "rewritten"}.get(
                    entry.action, entry.action
                ),
                "quarter": quarters[entry.entity_id],
                "changes": [
                    (label, shown)
                    for key, label, shown in (
                        ("text", "status", new.get("text")),
                        ("value", "value", format_number(new.get("value"))),
                        ("rating", "rating", Rating[rating].label if rating else ""),
                    )
                    if key in new
                ],
            }
        )
    return history


def _render_key_result(kr: KeyResult, form: StatusForm | None = None, status: int = 200):
    objective = kr.objective
    rows = [kr_row(kr)]
    quarters = _quarters(objective.fiscal_year)
    status_form = None
    if current_user.has_role(*WRITERS):
        status_form = _status_form(kr, rows, form)
    selected = None
    if status_form is not None:
        selected = next((q for q in quarters if q.label == status_form.quarter.data), None)
    return (
        render_template(
            "okrs/key_result.html",
            kr=kr,
            objective=objective,
            row=rows[0],
            metric=get_metric(kr.metric),
            quarters=quarters,
            year_label=_year_label(objective.fiscal_year),
            form=status_form,
            selected=selected,
            history=_status_history(kr),
        ),
        status,
    )


@bp.route("/key-results/<int:kr_id>")
@readable
def key_result(kr_id: int):
    return _render_key_result(_key_result_or_404(kr_id))


@bp.route("/key-results/<int:kr_id>/status", methods=["POST"])
@roles(*WRITERS)
def write_status(kr_id: int):
    found = _key_result_or_404(kr_id)
    form = StatusForm()
    if form.validate_on_submit() and (
        form.load.data
        or (form.loaded_quarter.data and form.quarter.data != form.loaded_quarter.data)
    ):
        # The quarter was changed without loading its text (no script, or "Show this
        # quarter"): show that quarter's status instead of saving the other one's text.
        try:
            chosen = fiscal.quarter_or_none(form.quarter.data)
        except fiscal.QuarterError:
            chosen = None
        if not form.load.data:
            flash(
                f"Nothing was saved: the form now shows {form.quarter.data}'s status. "
                "Check it, then save.",
                "warning",
            )
        return redirect(
            url_for("okrs.key_result", kr_id=kr_id, quarter=chosen.label if chosen else None)
        )
    if form.validate_on_submit():
        with saved_or_shown(form, refused_status=422) as outcome:
            written = service.write_status(
                found,
                quarter=form.quarter.data,
                text=form.text.data,
                value=form.value.data,
                rating=form.rating.data or None,
                author_id=current_user.id,
            )
            quarter = fiscal.quarter_starting(written.quarter_start)
        if outcome.saved:
            flash(f"{found.code or 'Key result'} status for {quarter.label} saved.", "success")
            return redirect(url_for("okrs.key_result", kr_id=kr_id, quarter=quarter.label))
        # Read again: the refused change was rolled back.
        return _render_key_result(_key_result_or_404(kr_id), form, outcome.status)
    return _render_key_result(found, form, 422)


@bp.route("/key-results/<int:kr_id>/status/clear", methods=["POST"])
@roles(*WRITERS)
def clear_status(kr_id: int):
    found = _key_result_or_404(kr_id)
    label = request.form.get("quarter", "")
    refusals = Refusals()
    with saved_or_shown(refusals) as outcome:
        removed = service.clear_status(found, label)
    if not outcome.saved:
        flash(" ".join(refusals.form_errors), "danger")
        return redirect(url_for("okrs.key_result", kr_id=kr_id))
    if removed:
        flash(f"Status for {label} removed; the table shows “-”.", "success")
    return redirect(url_for("okrs.key_result", kr_id=kr_id, quarter=label))
