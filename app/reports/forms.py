from __future__ import annotations

from wtforms import BooleanField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from app.forms import FlaskForm
from app.reports.service import REASON_MAX_LENGTH


class PublishForm(FlaskForm):
    objective = HiddenField()
    quarter = HiddenField()
    reason = TextAreaField(
        "Reason",
        validators=[Length(max=REASON_MAX_LENGTH)],
        description="Required when the quarter has been published before: "
        "what changed since (late entries, corrections).",
        render_kw={"rows": 2, "maxlength": REASON_MAX_LENGTH},
    )
    with_appendix = BooleanField(
        "Freeze the full-register appendix with it",
        default=True,
        description="So that the appendix of this quarter always shows the register as "
        "published. Takes about a minute at 100,000 threats.",
    )
    submit = SubmitField("Publish")


class ReportSettingsForm(FlaskForm):
    marking = StringField(
        "Confidentiality marking",
        validators=[InputRequired("Enter the marking printed on every page."), Length(max=80)],
        description='On the title page and every page header, e.g. "Internal — leadership".',
        render_kw={"maxlength": 80},
    )
    submit = SubmitField("Save")
