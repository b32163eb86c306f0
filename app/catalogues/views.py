"""Catalogue pages: libraries and their versions, the ATT&CK matrix, framework coverage,
and the mappings of threats and countermeasures."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app import fiscal
from app.catalogues import bp, figures, queries
from app.catalogues import libraries as catalogues_libraries
from app.catalogues import mappings as catalogues_mappings
from app.catalogues.forms import EndMappingForm, ImportForm, MappingForm
from app.catalogues.inputs import ref_from_text
from app.domain.catalogues import VersionChanges
from app.domain.quarters import (
    Quarter,
    QuarterError,
    fiscal_year_label,
    quarters_of_fiscal_year,
)
from app.domain.scoring import level_for
from app.extensions import db
from app.metrics import measured_on
from app.models.catalogues import (
    Library,
    LibraryKind,
    LibraryVersion,
)
from app.models.user import Role
from app.security import readable, roles
from app.threats.risk import risk_matrix
from app.validation import Refusals, saved_or_shown

_PLAIN_REF = re.compile(r"^[A-Za-z0-9._-]+$")


@bp.app_template_filter("ref_param")
def ref_param(ref: str) -> str:
    """A reference as a query-string value: ATT&CK and most control ids need no quoting,
    and the matrix writes thousands of them."""
    return ref if _PLAIN_REF.match(ref) else quote(ref, safe="")


def _library_or_404(library_id: int, kind: LibraryKind | None = None) -> Library:
    library = db.session.get(Library, library_id)
    if library is None or (kind is not None and library.kind != kind):
        abort(404, "There is no such catalogue.")
    return library


def _index(form: ImportForm, status: int = 200):
    today = fiscal.today()
    return render_template(
        "catalogues/index.html", lines=queries.library_lines(today), form=form, today=today
    ), status


@bp.route("/catalogues")
@readable
def index():
    return _index(ImportForm(formdata=None))


@bp.route("/catalogues/import", methods=["POST"])
@roles(Role.ADMIN)
def import_file():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        with saved_or_shown(form) as outcome:
            result = catalogues_libraries.import_library(
                upload.read(),
                upload.filename or "",
                name=form.name.data,
                version=form.version.data,
                on=fiscal.today(),
                user_id=current_user.id,
            )
        if outcome.saved:
            flash(str(result), "success")
            return redirect(url_for("catalogues.library", library_id=result.library.id))
    return _index(form, 422)


@bp.route("/catalogues/<int:library_id>")
@readable
def library(library_id: int):
    lib = _library_or_404(library_id)
    versions = list(
        db.session.scalars(
            select(LibraryVersion)
            .where(LibraryVersion.library_id == lib.id)
            .order_by(LibraryVersion.id.desc())
        )
    )
    q = (request.args.get("q") or "").strip()[:100]
    page = None
    if versions:
        page = db.paginate(
            queries.entries_query(versions[0].id, q),
            per_page=queries.ENTRIES_PER_PAGE,
            error_out=False,
        )
    return render_template(
        "catalogues/library.html",
        library=lib,
        versions=versions,
        changes={v.id: VersionChanges.from_json(v.changes) for v in versions},
        page=page,
        q=q,
    )


def _quarter_options(today: date) -> list[Quarter]:
    fy = fiscal.current_quarter().fiscal_year
    options = quarters_of_fiscal_year(fy - 1, fiscal.start_month())
    options += quarters_of_fiscal_year(fy, fiscal.start_month())
    return [q for q in options if q.first_day <= today]


def _as_of() -> tuple[date, Quarter | None]:
    """The quarter asked for (its end, or today while it runs), or today."""
    today = fiscal.today()
    label = request.args.get("quarter")
    if not label:
        return today, None
    try:
        quarter = fiscal.quarter_or_none(label)
    except QuarterError as error:
        abort(400, str(error))
    assert quarter is not None
    day = measured_on(quarter)
    if day is None:
        abort(400, f"{quarter.label} has not started yet.")
    return day, quarter


@bp.route("/attack")
@readable
def attack():
    """The ATT&CK matrix of the first ATT&CK library (the menu's link)."""
    found = figures.libraries(LibraryKind.ATTACK)
    if not found:
        flash("No ATT&CK library is imported yet.", "info")
        return redirect(url_for("catalogues.index"))
    return redirect(url_for("catalogues.matrix", library_id=found[0].id, **request.args))


@bp.route("/catalogues/<int:library_id>/matrix")
@readable
def matrix(library_id: int):
    lib = _library_or_404(library_id, LibraryKind.ATTACK)
    as_of, quarter = _as_of()
    risk = risk_matrix()
    return render_template(
        "catalogues/matrix.html",
        library=lib,
        coverage=figures.attack_coverage_on(lib.id, as_of),
        as_of=as_of,
        quarter=quarter,
        quarter_options=_quarter_options(fiscal.today()),
        level_for=lambda score: level_for(score, risk),
    )


@bp.route("/catalogues/<int:library_id>/coverage")
@readable
def framework(library_id: int):
    lib = _library_or_404(library_id, LibraryKind.FRAMEWORK)
    today = fiscal.today()
    label = request.args.get("year")
    fy = fiscal.fiscal_year_or_400(label) if label else fiscal.current_quarter().fiscal_year
    quarters = quarters_of_fiscal_year(fy, fiscal.start_month())
    rows = []
    for q in quarters:
        day = measured_on(q)
        rows.append((q, day, figures.framework_coverage_on(lib.id, day) if day else None))
    as_of, quarter = _as_of()
    return render_template(
        "catalogues/framework.html",
        library=lib,
        rows=rows,
        fy=fy,
        coverage=figures.framework_coverage_on(lib.id, as_of),
        as_of=as_of,
        quarter=quarter,
        quarter_options=_quarter_options(today),
        today=today,
        fy_label=fiscal_year_label(fy, fiscal.start_month()),
        year_links=[
            (fiscal_year_label(fy - 1, fiscal.start_month()), "previous year"),
            (fiscal_year_label(fy + 1, fiscal.start_month()), "next year"),
        ],
    )


# ---------------------------------------------------------------- mappings


# The page each kind of record mapped is shown on.
DETAIL_PAGES = {"threat": "threats.detail", "countermeasure": "countermeasures.detail"}


def _subject(kind: str, record_id: int):
    subject = catalogues_mappings.SUBJECTS[kind]
    record = db.session.get(subject.model, record_id)
    if record is None:
        abort(404)
    return record, subject.mapping, subject.column, DETAIL_PAGES[kind]


def _mapping_page(kind: str, record_id: int, form: MappingForm | None = None, status: int = 200):
    record, mapping_model, column, detail = _subject(kind, record_id)
    for_threats = kind == "threat"
    libraries = queries.picker_libraries(for_threats)
    if form is None:
        form = MappingForm(formdata=None)
        form.on.data = fiscal.today()
    form.library.choices = [(lib.id, lib.name) for lib in libraries]
    # The entries offered are those of one catalogue, chosen first (a plain GET form, so
    # the list narrows without script); after a refused post, the one posted.
    wanted = form.library.data if form.library.data else request.args.get("library", type=int)
    chosen = next(
        (lib for lib in libraries if lib.id == wanted), libraries[0] if libraries else None
    )
    lines = queries.lines_of(kind, record.id)
    end_form = EndMappingForm(formdata=None)
    end_form.on.data = fiscal.today()
    return render_template(
        "catalogues/mappings.html",
        kind=kind,
        record=record,
        detail_endpoint=detail,
        form=form,
        end_form=end_form,
        lines=lines,
        options=queries.picker_options(for_threats, chosen.id) if chosen else [],
        libraries=libraries,
        chosen=chosen,
    ), status


def _map(kind: str, record_id: int):
    if request.method == "GET":
        return _mapping_page(kind, record_id)
    record, _, _, _ = _subject(kind, record_id)
    form = MappingForm()
    libraries = queries.picker_libraries(kind == "threat")
    form.library.choices = [(lib.id, lib.name) for lib in libraries]
    if form.validate_on_submit():
        ref = ref_from_text(form.entry.data)
        with saved_or_shown(form) as outcome:
            if kind == "threat":
                catalogues_mappings.map_threat(
                    record.id, form.library.data, ref, form.on.data, current_user.id
                )
            else:
                catalogues_mappings.map_countermeasure(
                    record.id, form.library.data, ref, form.on.data, current_user.id
                )
        if outcome.saved:
            flash(f"Mapped to {ref} from {form.on.data}.", "success")
            return redirect(url_for(f"catalogues.{kind}_mappings", record_id=record.id))
    return _mapping_page(kind, record_id, form, 422)


def _end(kind: str, record_id: int, mapping_id: int):
    record, mapping_model, column, _ = _subject(kind, record_id)
    mapping = db.session.get(mapping_model, mapping_id)
    if mapping is None or getattr(mapping, column) != record.id:
        abort(404)
    form = EndMappingForm()
    if not form.validate_on_submit():
        flash("Give the day the mapping ends (YYYY-MM-DD).", "danger")
        return redirect(url_for(f"catalogues.{kind}_mappings", record_id=record.id))
    refusals = Refusals()
    with saved_or_shown(refusals) as outcome:
        catalogues_mappings.end_mapping(mapping, form.on.data)
    if outcome.saved:
        flash(f"{mapping.ref} is unmapped from {form.on.data}.", "success")
    else:
        flash(" ".join(refusals.form_errors), "danger")
    return redirect(url_for(f"catalogues.{kind}_mappings", record_id=record.id))


def _routed(view, kind: str, endpoint: str):
    """``view`` for the records of ``kind``, named as its endpoint (the rate limiter and the
    roles read the function)."""

    def page(**ids):
        return view(kind, **ids)

    page.__name__ = page.__qualname__ = endpoint
    return roles(Role.SECURITY)(page)


# A threat's and a countermeasure's mappings: the page that adds one, and the end of one.
for _kind, _records in (("threat", "/threats"), ("countermeasure", "/countermeasures")):
    for _rule, _endpoint, _view, _methods in (
        ("mappings", f"{_kind}_mappings", _map, ["GET", "POST"]),
        ("mappings/<int:mapping_id>/end", f"end_{_kind}_mapping", _end, ["POST"]),
    ):
        bp.add_url_rule(
            f"{_records}/<int:record_id>/{_rule}",
            _endpoint,
            _routed(_view, _kind, _endpoint),
            methods=_methods,
        )
