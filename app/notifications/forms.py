from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from app.domain.reminders import CADENCES, CONFIDENCE_LEVELS, DEFAULT_DAYS, KINDS, MAX_DAYS


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PreferenceForm(FlaskForm):
    cadence = RadioField("How often", choices=list(CADENCES.items()), default="daily")
    kinds = CheckboxesField("Reminders I get", choices=list(KINDS.items()), validate_choice=True)
    submit = SubmitField("Save")


def _days_field(kind: str):
    return IntegerField(
        KINDS[kind],
        default=DEFAULT_DAYS[kind],
        validators=[
            InputRequired("Enter a number of days."),
            NumberRange(min=0, max=MAX_DAYS, message=f"From 0 to {MAX_DAYS} days."),
        ],
    )


class ReminderSettingsForm(FlaskForm):
    days_review = _days_field("review")
    days_acceptance = _days_field("acceptance")
    days_slipping = _days_field("slipping")
    days_departure = _days_field("departure")
    days_kr_status = _days_field("kr_status")
    candidate_level = SelectField(
        "Feed candidates told from confidence", choices=list(CONFIDENCE_LEVELS.items())
    )
    submit = SubmitField("Save settings")


class WebhookForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name the webhook."), Length(max=120)])
    url = StringField("URL", validators=[DataRequired("Enter the webhook's URL."), Length(max=500)])
    submit = SubmitField("Add webhook")


class UnsubscribeForm(FlaskForm):
    submit = SubmitField("Stop my reminders")
