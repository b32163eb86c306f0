import marshmallow as ma
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from app.coverage.inputs import (
    OPENING,
    PositionInput,
    ResponsibilityInput,
    StaffMemberInput,
    SystemInput,
    choices,
    max_length,
)
from app.forms import FlaskForm, VersionedForm
from app.models.systems import PositionStatus
from app.validation import InputError, check_date_range

CRITICALITY_CHOICES = choices("criticality", SystemInput)
KIND_CHOICES = choices("kind", ResponsibilityInput)
STATUS_CHOICES = [(s.name, s.label) for s in PositionStatus]
OPENING_STATUS_CHOICES = [(s.name, s.label) for s in OPENING]
DATE_MESSAGE = "Enter a real date as YYYY-MM-DD (for example 2020-12-31)."


class IsoDateField(DateField):
    """A date input whose error says what a valid date looks like (2021-02-30 is not one)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(f'"{valuelist[0]}" is not a valid date. {DATE_MESSAGE}') from None
        try:
            check_date_range(self.name, self.data)
        except InputError as error:
            self.data = None
            raise ValueError(error.errors[self.name]) from None


def optional_int(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _words(
    schema: type[ma.Schema], field: str, label: str, missing: str | None = None
) -> StringField:
    """A text input as long as the input schema's field allows; required (``missing`` the
    message) when given."""
    length = Length(max=max_length(field, schema))
    return StringField(label, validators=[DataRequired(missing), length] if missing else [length])


def _impact_confirmed() -> BooleanField:
    return BooleanField(
        "I understand that this creates a single point of failure or an uncovered system"
    )


class SystemForm(VersionedForm):
    name = _words(SystemInput, "name", "Name", "Enter a name.")
    team = _words(SystemInput, "team", "Team")
    criticality = SelectField("Criticality", choices=CRITICALITY_CHOICES, default="MEDIUM")
    in_production = BooleanField("In production", default=True)
    production_changed_on = IsoDateField(
        "Production flag changed on",
        validators=[Optional()],
        description="When you tick or untick “In production”: the day it took effect "
        "(default today). Coverage before that day keeps the flag it had.",
    )
    criticality_changed_on = IsoDateField(
        "Criticality changed on",
        validators=[Optional()],
        description="When you change the criticality: the day it took effect (default "
        "today). Reports of quarters before that day keep the criticality it had.",
    )
    retired_on = IsoDateField(
        "Retired on",
        validators=[Optional()],
        description="From this day the system no longer counts for coverage.",
    )
    description = TextAreaField("Description", render_kw={"rows": 3})
    submit = SubmitField("Save")


class StaffForm(VersionedForm):
    name = _words(StaffMemberInput, "name", "Name", "Enter a name.")
    email = StringField(
        "Email",
        validators=[
            Optional(),
            Email("Enter a valid email address.", check_deliverability=False),
            Length(max=max_length("email", StaffMemberInput)),
        ],
    )
    team = _words(StaffMemberInput, "team", "Team")
    active = BooleanField(
        "Active",
        default=True,
        description="Unticking Active records that the person is gone from today (yesterday "
        "becomes their last working day), with the same impact check as a leaving date.",
    )
    left_on = IsoDateField(
        "Left on (last working day)",
        validators=[Optional()],
        description="From the next day the person no longer counts for coverage; the days "
        "before still count them. To record someone as active again, clear this date.",
    )
    user_id = SelectField("User account", coerce=optional_int, choices=[], validate_choice=False)
    confirm_impact = _impact_confirmed()
    preview = SubmitField("Preview the impact")
    submit = SubmitField("Save")


class ResponsibilityForm(VersionedForm):
    staff_member_id = SelectField(
        "Staff member", coerce=optional_int, choices=[], validate_choice=False
    )
    system_id = SelectField("System", coerce=optional_int, choices=[], validate_choice=False)
    kind = SelectField("Kind", choices=KIND_CHOICES, default="PRIMARY")
    since = IsoDateField("Since", validators=[Optional()])
    until = IsoDateField(
        "Until (last day, optional)",
        validators=[Optional()],
        description="Leave empty while the responsibility continues.",
    )
    confirm_impact = _impact_confirmed()
    submit = SubmitField("Save")


class PositionForm(VersionedForm):
    title = _words(PositionInput, "title", "Title", "Enter a title.")
    team = _words(PositionInput, "team", "Team")
    system_ids = SelectMultipleField(
        "Systems it will cover", coerce=int, choices=[], validate_choice=False
    )
    opened_on = IsoDateField("Opened on", validators=[Optional()])
    status = SelectField("Status", choices=OPENING_STATUS_CHOICES, default="PLANNED")
    notes = TextAreaField("Notes", render_kw={"rows": 3})
    submit = SubmitField("Save")


class PositionStatusForm(VersionedForm):
    status = SelectField(
        "New status",
        choices=STATUS_CHOICES,
        validators=[DataRequired("Choose the new status.")],
        description="The next step is offered first; a step back asks for a confirmation.",
    )
    changed_on = IsoDateField("Date of the change", validators=[Optional()])
    hire_id = SelectField("Hire", coerce=optional_int, choices=[], validate_choice=False)
    new_hire_name = StringField("…or a new staff member", validators=[Length(max=160)])
    add_responsibilities = BooleanField(
        "Make the hire responsible for the position's systems from this date", default=True
    )
    note = StringField("Note", validators=[Length(max=500)])
    confirm_backwards = BooleanField("Yes, move the position back")
    submit = SubmitField("Record the change")


class GoalForm(FlaskForm):
    goal = IntegerField(
        "SPOF positions to fill (goal)",
        validators=[
            DataRequired("Enter a whole number."),
            NumberRange(1, 1000, "Enter a whole number of positions between 1 and 1000."),
        ],
    )
    submit = SubmitField("Save goal")
