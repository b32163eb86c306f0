"""Forms for objectives, key results and quarterly statuses.

Fields stay text where the service decides (numbers, fiscal years, metric names), so
its messages, not a generic one, appear beside the field.
"""

from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from app.forms import FlaskForm
from app.metrics import metric_choices
from app.models.okrs import GoalDirection, Rating
from app.okrs.inputs import CODE_MAX, DEPARTMENT_MAX, TITLE_MAX, UNIT_MAX


class ObjectiveForm(FlaskForm):
    title = StringField("Title", validators=[Length(max=TITLE_MAX)])
    statement = TextAreaField("Objective statement", render_kw={"rows": 4})
    department = StringField("Department or team", validators=[Length(max=DEPARTMENT_MAX)])
    fiscal_year = StringField("Fiscal year", description="A label such as FY20-21.")
    target_completion = StringField(
        "Target quarter for completion", description="As the deck writes it, e.g. Q1 FY21-22."
    )
    position = StringField("Order on the page", description="Smaller numbers come first.")
    submit = SubmitField("Save objective")


class NarrativeForm(FlaskForm):
    quarter = SelectField("Quarter", choices=[], validate_choice=False)
    text = TextAreaField(
        "Progress narrative", render_kw={"rows": 6}, description="Leave empty to remove it."
    )
    submit = SubmitField("Save narrative")


def _metric_choices() -> list[tuple[str, str]]:
    return [("", "None (status written by hand)")] + metric_choices()


class KeyResultForm(FlaskForm):
    code = StringField("Code", validators=[Length(max=CODE_MAX)], description="KR1, KR2…")
    statement = TextAreaField("Key result", render_kw={"rows": 4})
    baseline_text = TextAreaField(
        "Baseline", render_kw={"rows": 2}, description='Shown after "Baseline:" in the table.'
    )
    baseline_value = StringField("Baseline as a number", description="Optional.")
    goal_text = StringField("Goal", description="The Goal column, e.g. Hire for 4 SPoF positions.")
    goal_value = StringField("Goal as a number", description="Optional; enables the progress bar.")
    goal_unit = StringField("Unit", validators=[Length(max=UNIT_MAX)], description="e.g. positions")
    goal_direction = SelectField(
        "Direction",
        choices=[("", "—")] + [(d.value, d.label) for d in GoalDirection],
        validate_choice=False,
    )
    metric = SelectField(
        "Register metric",
        choices=[],
        validate_choice=False,
        description="Links the key result to a figure the register computes each quarter.",
    )
    baseline_quarter = SelectField(
        "Baseline quarter",
        choices=[],
        validate_choice=False,
        description="Per-quarter targets share the goal over the quarters after it "
        "(a programme set up in Q1: Q1).",
    )
    position = StringField("Order in the table")
    submit = SubmitField("Save key result")

    def __init__(self, *args, quarters: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.metric.choices = _metric_choices()
        # The objective's quarters; the service refuses any other.
        self.baseline_quarter.choices = [("", "Year start")] + [
            (label, f"End of {label}") for label in (quarters or [])
        ]


class StatusForm(FlaskForm):
    quarter = SelectField(
        "Quarter",
        choices=[],
        validate_choice=False,
        render_kw={"data-reload-param": "quarter"},
        description="Changing it loads that quarter's status, value and proposal.",
    )
    # The quarter whose text the form was filled with: a status is only saved for it.
    loaded_quarter = HiddenField()
    load = SubmitField("Show this quarter")
    text = TextAreaField("Status", render_kw={"rows": 3}, description="As it reads in the table.")
    value = StringField("Value", description="A number, for a numeric key result.")
    rating = SelectField(
        "Rating",
        choices=[("", "—")] + [(r.value, r.label) for r in Rating],
        validate_choice=False,
    )
    submit = SubmitField("Save status")
