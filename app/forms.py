"""The base of every form: refuses control characters in any submitted value.

Every form in the app derives from :class:`FlaskForm` here instead of Flask-WTF's, so a NUL
byte (which PostgreSQL cannot store) or another control character in any field is refused
with a message beside that field, before a view reaches a service or the database. Tabs and
line breaks are allowed in multi-line fields (text areas) only.

A form page saves through :func:`save_submitted`; a form that edits a record people change
concurrently derives from :class:`VersionedForm`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import flash, g
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.validation import SaveOutcome, control_character_message, saved_or_shown

T = TypeVar("T")


def _refusal(field) -> str | None:
    multiline = isinstance(field, TextAreaField)
    for raw in field.raw_data or ():
        if isinstance(raw, str):
            message = control_character_message(raw, multiline=multiline)
            if message:
                return message
    return None


class FlaskForm(_FlaskForm):
    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators=extra_validators)
        # Checked after the field's own rules, which may stop early (a required file), so
        # the refusal always shows; the edge's after-request hook then answers 400, not 200.
        for field in self:
            message = _refusal(field)
            if message:
                field.errors = [message, *(e for e in field.errors if e != message)]
                g.refused_control_characters = True
                valid = False
        return valid


class VersionedForm(FlaskForm):
    """A form that changes a record people edit concurrently: it carries back the version
    it was read at, so a change someone made since is a conflict, not overwritten."""

    version = HiddenField()


class CorrectionForm(FlaskForm):
    """An administrator deletes a wrong fact that past figures count: why, and a tick that
    says they read which published reports it changes."""

    reason = StringField(
        "Why is it wrong?",
        validators=[
            DataRequired(message="Say why this entry is wrong (kept in the audit log)."),
            Length(max=200, message="The reason is too long (200 characters at most)."),
        ],
    )
    confirm = BooleanField(
        "Delete it for good: I have read which figures and published reports it changes",
        validators=[DataRequired(message="Tick the box to delete it.")],
    )


def save_submitted(
    form: Any,
    save: Callable[[], T],
    saved: Callable[[Any], str],
    *,
    valid: bool | None = None,
    refused_status: int = 200,
) -> tuple[SaveOutcome, T | None]:
    """A form page's save: when ``form`` comes back valid (or the caller says it is,
    ``valid``), ``save()`` inside ``saved_or_shown`` (committed, or the refusal beside its
    field), then ``saved(result)`` flashed as a success. The outcome (nothing sent: status
    200, not saved) and what ``save`` returned, None unless saved."""
    if not (form.validate_on_submit() if valid is None else valid):
        return SaveOutcome(), None
    with saved_or_shown(form, refused_status) as outcome:
        result = save()
    if not outcome.saved:
        return outcome, None
    flash(saved(result), "success")
    return outcome, result
