"""Export what a list shows; import with a preview of every error before anything is written."""

from __future__ import annotations

import itertools
import re
import secrets
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SubmitField

from app import fiscal
from app.extensions import db
from app.forms import FlaskForm
from app.models.user import Role
from app.security import readable, roles
from app.transfer import bp, service, xlsx_format
from app.transfer.bulk import FilterError
from app.transfer.entities import FORMATS
from app.transfer.service import ImportRefusedError, check_file, export_chunks, import_file

# Who may import what: the roles that write those records through the forms.
IMPORT_ROLES = {
    "threats": (Role.SECURITY,),
    "threat-scores": (Role.SECURITY,),
    "threat-states": (Role.SECURITY,),
    "countermeasures": (Role.SECURITY,),
    "systems": (Role.MANAGER,),
    "staff": (Role.MANAGER,),
    "responsibilities": (Role.MANAGER,),
}
LIST_PAGES = {
    "threats": "threats.index",
    "countermeasures": "countermeasures.index",
    "systems": "coverage.systems",
    "staff": "coverage.staff",
}
UPLOAD_NAME = re.compile(r"^[0-9a-f]{32}$")


class UploadForm(FlaskForm):
    file = FileField("CSV file (UTF-8)", validators=[FileRequired("Choose a CSV file.")])
    submit = SubmitField("Check the file")


class ConfirmForm(FlaskForm):
    upload = HiddenField()
    submit = SubmitField("Import")


def _format_or_404(entity: str, importing: bool = False):
    fmt = FORMATS.get(entity)
    if fmt is None or (importing and not fmt.importable):
        what = "imported" if importing else "exported or imported"
        abort(404, f"Nothing called “{entity}” can be {what}.")
    return fmt


def _may_import(entity: str) -> None:
    if not current_user.has_role(*IMPORT_ROLES[entity]):
        abort(403)


def _upload_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _upload_path(upload: str | None, entity: str) -> Path:
    if not UPLOAD_NAME.match(upload or ""):
        abort(400, "That upload is unknown; choose the file again.")
    # Named after its owner: nobody can confirm someone else's upload.
    return _upload_dir() / f"{current_user.id}-{entity}-{upload}.csv"


@bp.route("/export/<entity>.csv")
@readable
def export(entity: str):
    _format_or_404(entity)
    # The list page's own filters and order (the same query-string names and values).
    try:
        chunks = export_chunks(entity, request.args)
        first = next(chunks)  # a refused filter answers 400 before anything is sent
    except FilterError as error:
        abort(400, str(error))
    filename = f"frontline-{entity}-{fiscal.today().isoformat()}.csv"
    return Response(
        stream_with_context(itertools.chain([first], chunks)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/export/<entity>.xlsx")
@readable
def export_xlsx(entity: str):
    _format_or_404(entity)
    try:
        workbook = service.export_xlsx(entity, request.args)
    except FilterError as error:
        abort(400, str(error))
    return send_file(
        workbook,
        mimetype=xlsx_format.MIMETYPE,
        as_attachment=True,
        download_name=f"frontline-{entity}-{fiscal.today().isoformat()}.xlsx",
        max_age=0,
    )


@bp.route("/import/<entity>", methods=["GET", "POST"])
@roles(Role.SECURITY, Role.MANAGER)
def import_form(entity: str):
    fmt = _format_or_404(entity, importing=True)
    _may_import(entity)
    form = UploadForm()
    checked = None
    confirm = None
    if form.validate_on_submit():
        data = form.file.data.read()
        checked, _ = check_file(entity, data)
        db.session.rollback()
        if checked.ok:
            upload = secrets.token_hex(16)
            _upload_path(upload, entity).write_bytes(data)
            confirm = ConfirmForm(formdata=None, upload=upload)
    return render_template(
        "transfer/import.html",
        fmt=fmt,
        form=form,
        checked=checked,
        confirm=confirm,
        list_endpoint=LIST_PAGES.get(entity),
    )


@bp.route("/import/<entity>/confirm", methods=["POST"])
@roles(Role.SECURITY, Role.MANAGER)
def import_confirm(entity: str):
    fmt = _format_or_404(entity, importing=True)
    _may_import(entity)
    form = ConfirmForm()
    path = _upload_path(form.upload.data, entity)
    if not form.validate_on_submit() or not path.exists():
        flash("That upload is no longer available; choose the file again.", "warning")
        return redirect(url_for("transfer.import_form", entity=entity))
    try:
        # Checked again: the register may have changed since the preview.
        count = import_file(entity, path.read_bytes(), current_user.id)
    except ImportRefusedError as refused:
        db.session.rollback()
        flash(
            f"Nothing was imported: {refused.errors[0]} ({len(refused.errors)} error(s)).", "danger"
        )
        return redirect(url_for("transfer.import_form", entity=entity))
    finally:
        path.unlink(missing_ok=True)
    db.session.commit()
    flash(f"Imported {count} {fmt.label.lower()}.", "success")
    endpoint = LIST_PAGES.get(entity)
    if endpoint and endpoint in current_app.view_functions:
        return redirect(url_for(endpoint))
    return redirect(url_for("transfer.import_form", entity=entity))
