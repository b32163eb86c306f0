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

from flask import g, redirect, request, url_for
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.validation import control_character_message, save_submitted


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


def saved_settings(form, fill: Callable[[], None], save: Callable[[], None], done: str, page: str):
    """A settings page's round trip: the form filled from the settings in force (GET), then
    ``save`` through ``saved_or_shown``; once saved, ``done`` flashed and the redirect to
    ``page`` (an endpoint) answered. None: show the form (first visit, or refused)."""
    if request.method == "GET":
        fill()
    outcome, _ = save_submitted(form, save, lambda _: done)
    return redirect(url_for(page)) if outcome.saved else None
