from __future__ import annotations

import re

from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from app.countermeasures.inputs import max_length
from app.forms import FlaskForm
from app.models.countermeasures import CountermeasureType, Effectiveness

TYPE_CHOICES = [(t.name, t.label) for t in CountermeasureType]
EFFECTIVENESS_CHOICES = [(e.name, e.label) for e in Effectiveness]


class CountermeasureForm(FlaskForm):
    title = StringField(
        "Title", validators=[DataRequired("Give it a title."), Length(max=max_length("title"))]
    )
    description = TextAreaField("Description", render_kw={"rows": 4})
    type = SelectField("Type", choices=TYPE_CHOICES, default="PREVENTIVE")
    threat_ids = SelectMultipleField(
        "Threats it treats",
        coerce=int,
        validate_choice=False,
        description="The open threats with the highest residual score; hold Ctrl to pick several.",
        render_kw={"size": 8},
    )
    other_threats = StringField(
        "Other threat numbers",
        description="Threats not in the list above, by number, comma-separated (e.g. 412, 1033).",
    )
    owner_id = SelectField("Owner", choices=[], validate_choice=False)
    target_quarter = SelectField("Target quarter", choices=[], validate_choice=False)
    evidence = TextAreaField(
        "Evidence",
        description="What shows it works: notes, tickets, links (one per line).",
        render_kw={"rows": 3},
    )
    planned_on = DateField("Planned on", validators=[Optional()])
    deployed_on = DateField("Deployment date", validators=[Optional()])
    version = HiddenField()
    submit = SubmitField("Save")

    def all_threat_ids(self) -> list:
        ids = list(self.threat_ids.data or [])
        for part in re.split(r"[,\s;]+", self.other_threats.data or ""):
            part = part.strip().lstrip("#")
            if part:
                ids.append(part)
        return ids


class StatusForm(FlaskForm):
    status = SelectField("New status", choices=[], validate_choice=False)
    changed_on = DateField("On", validators=[Optional()])
    version = HiddenField()
    submit = SubmitField("Change status")


class DeployFormBase(FlaskForm):
    deployed_on = DateField("Deployment date", validators=[Optional()])
    evidence = TextAreaField("Evidence", render_kw={"rows": 4})
    version = HiddenField()
    submit = SubmitField("Record the deployment")


def deploy_form_class(threats, matrix):
    """A deploy form with a residual likelihood and impact select for each treated threat."""

    class DeployForm(DeployFormBase):
        pass

    likelihoods = [(i, f"{i} · {label}") for i, label in enumerate(matrix.likelihood_labels, 1)]
    impacts = [(i, f"{i} · {label}") for i, label in enumerate(matrix.impact_labels, 1)]
    for threat in threats:
        setattr(
            DeployForm,
            f"likelihood_{threat.id}",
            SelectField("Residual likelihood", choices=likelihoods, coerce=int),
        )
        setattr(
            DeployForm,
            f"impact_{threat.id}",
            SelectField("Residual impact", choices=impacts, coerce=int),
        )
    return DeployForm


class VerifyForm(FlaskForm):
    verified_on = DateField("Verified on", validators=[Optional()])
    verified_by_id = SelectField("Verified by", choices=[], validate_choice=False)
    effectiveness = SelectField("Effective?", choices=EFFECTIVENESS_CHOICES, default="YES")
    version = HiddenField()
    submit = SubmitField("Record the verification")


class TargetsForm(FlaskForm):
    per_quarter = IntegerField(
        "Countermeasures per quarter",
        description="The quarterly target; the quarter page also ranks this many top threats.",
    )
    yearly_goal = IntegerField(
        "Yearly goal", description="Countermeasures to deploy over the fiscal year."
    )
    submit = SubmitField("Save")
