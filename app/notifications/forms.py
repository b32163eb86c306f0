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
from app.forms import FlaskForm


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PreferenceForm(FlaskForm):
    cadence = RadioField("How often", choices=list(CADENCES.items()), default="daily")
    kinds = CheckboxesField("Reminders I get", choices=list(KINDS.items()), validate_choice=True)
    submit = SubmitField("Save")


# Days ahead for each reminder, a field per kind the page lists; made before the form's
# other fields so that they come first, as on the page.
_DAYS_FIELDS = {
    f"days_{kind}": IntegerField(
        KINDS[kind],
        default=days,
        validators=[
            InputRequired("Enter a number of days."),
            NumberRange(min=0, max=MAX_DAYS, message=f"From 0 to {MAX_DAYS} days."),
        ],
    )
    for kind, days in DEFAULT_DAYS.items()
}


class ReminderSettingsForm(FlaskForm):
    """The days ahead of each reminder (``days_<kind>``) and the confidence from which feed
    candidates are told."""

    candidate_level = SelectField(
        "Feed candidates told from confidence", choices=list(CONFIDENCE_LEVELS.items())
    )
    submit = SubmitField("Save settings")


for _name, _field in _DAYS_FIELDS.items():
    setattr(ReminderSettingsForm, _name, _field)


class WebhookForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name the webhook."), Length(max=120)])
    url = StringField("URL", validators=[DataRequired("Enter the webhook's URL."), Length(max=500)])
    submit = SubmitField("Add webhook")


class UnsubscribeForm(FlaskForm):
    submit = SubmitField("Stop my reminders")
