"""Deleting a wrong fact that past figures count: an administrator's correction.

Everyday changes are dated entries (end a responsibility, re-score, archive), which keep
the history whole. Deleting an entry rewrites the figures from its day on, so the page
first names the published reports that will differ, asks why (kept beside each deleted
row in the audit log, with its old values) and asks for a tick.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import flash, redirect, render_template

from app.extensions import db
from app.forms import CorrectionForm
from app.models.audit import give_correction_reason
from app.reports.corrections import affected_reports, correction_warning
from app.validation import InputError


def confirm_and_delete(
    *,
    fact: list[tuple[str, str]],
    effective_on: date,
    remove: Callable[[], str | None],
    done: str,
    back_url: str,
    back_label: str,
    everyday: str,
):
    """The confirmation page, then ``remove()`` (the service's deletion; it may answer
    where to go next) committed with the reason given."""
    form = CorrectionForm()
    refusal = None
    if form.validate_on_submit():
        give_correction_reason(form.reason.data or "")
        try:
            target = remove()
            db.session.commit()
        except InputError as error:
            db.session.rollback()
            refusal = " ".join(error.errors.values())
        else:
            flash(done, "success")
            warning = correction_warning(effective_on)
            if warning:
                flash(warning, "warning")
            return redirect(target or back_url)
    status = 422 if refusal or form.errors else 200
    page = render_template(
        "admin/correction.html",
        form=form,
        fact=fact,
        effective_on=effective_on,
        reports=affected_reports(effective_on),
        refusal=refusal,
        back_url=back_url,
        back_label=back_label,
        everyday=everyday,
    )
    return page, status
