"""The base of every form: refuses control characters in any submitted value.

Every form in the app derives from :class:`FlaskForm` here instead of Flask-WTF's, so a NUL
byte (which PostgreSQL cannot store) or another control character in any field is refused
with a message beside that field, before a view reaches a service or the database. Tabs and
line breaks are allowed in multi-line fields (text areas) only.
"""

from __future__ import annotations

from flask import g
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import TextAreaField
from wtforms.validators import StopValidation

from app.validation import control_character_message


def _refuse_control_characters(form, field) -> None:
    multiline = isinstance(field, TextAreaField)
    for raw in field.raw_data or ():
        if isinstance(raw, str):
            message = control_character_message(raw, multiline=multiline)
            if message:
                # The after-request hook answers 400 instead of 200 with the form shown again.
                g.refused_control_characters = True
                raise StopValidation(message)


class FlaskForm(_FlaskForm):
    def validate(self, extra_validators=None) -> bool:
        extra = {name: list(checks) for name, checks in (extra_validators or {}).items()}
        for name in self._fields:
            extra.setdefault(name, []).insert(0, _refuse_control_characters)
        return super().validate(extra_validators=extra)
