"""Forms of the threat register. They parse; the rules live in ``app.threats.service``."""

from __future__ import annotations

import marshmallow as ma
from flask_wtf.csrf import validate_csrf
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
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.domain.scoring import Level
from app.domain.scoring_methods import DREAD_FACTORS, FACTOR_MAX, OWASP_FACTORS, Method
from app.forms import FlaskForm
from app.inputs import Date, Named, Words
from app.models.threats import ThreatSource, ThreatStatus, Treatment
from app.threats.inputs import (
    STORED_AS_READ,
    TITLE_MAX_LENGTH,
    CategoryInput,
    ReviewInput,
    ThreatInput,
    input_field,
    title_of,
)


def _length(
    schema: type[ma.Schema],
    name: str,
    message: str = "{label} is too long: at most {maximum:,} characters.",
) -> Length:
    """The input schema's length of a text field, checked as the form is read."""
    field = schema._declared_fields[name]
    assert isinstance(field, Words)
    return Length(
        max=field.maximum, message=message.format(label=field.label, maximum=field.maximum)
    )


class ThreatForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[
            DataRequired("Give the threat a title."),
            _length(ThreatInput, "title"),
        ],
    )
    description = TextAreaField(
        "Description",
        validators=[_length(ThreatInput, "description")],
    )
    category_id = SelectField("Category", choices=[], validate_choice=False)
    source = SelectField(
        "Source", choices=[(s.value, s.label) for s in ThreatSource], default="internal"
    )
    feed_id = SelectField("Threat-intelligence feed", choices=[], validate_choice=False)
    owner_id = SelectField("Owner", choices=[], validate_choice=False)
    status = SelectField(
        "Status", choices=[(s.value, s.label) for s in ThreatStatus], default="identified"
    )
    identified_on = DateField("Identified on", validators=[InputRequired("Give a date.")])
    status_changed_on = DateField(
        "Status, treatment and review changed on",
        validators=[Optional()],
        description="The day a change of status, treatment, acceptance or next review took "
        "effect (default today); a past date records the change as it happened.",
    )
    next_review_on = DateField(
        "Next review",
        validators=[Optional()],
        description="Leave empty to use the review interval of the residual level.",
    )
    system_ids = SelectMultipleField("Affected systems", choices=[], validate_choice=False)
    tags = StringField(
        "Tags",
        validators=[Length(max=600, message="Too many tags.")],
        description="Separated by commas, e.g. edge, availability.",
    )
    scoring_method = SelectField(
        "Scoring method",
        choices=[(m.value, m.label) for m in Method],
        default=Method.MATRIX.value,
        description="Any method but likelihood × impact gives the inherent likelihood and "
        "impact from its inputs, by the rules on the risk settings.",
    )
    cvss_vector = StringField(
        "CVSS vector",
        validators=[Length(max=400, message="A CVSS vector has at most 400 characters.")],
        description="e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H or a CVSS:4.0/ vector.",
    )
    derive = SubmitField("Work out the cell")
    inherent_likelihood = SelectField("Likelihood", choices=[], validate_choice=False)
    inherent_impact = SelectField("Impact", choices=[], validate_choice=False)
    residual_likelihood = SelectField("Likelihood", choices=[], validate_choice=False)
    residual_impact = SelectField("Impact", choices=[], validate_choice=False)
    scored_on = DateField(
        "Assessed on",
        validators=[Optional()],
        description="Date of this assessment (kept in the score history).",
    )
    score_note = StringField(
        "Why the scores changed",
        validators=[_length(ThreatInput, "score_note")],
    )
    treatment = SelectField(
        "Treatment decision",
        choices=[("", "Not decided yet")] + [(t.value, t.label) for t in Treatment],
        default="",
    )
    treatment_rationale = TextAreaField(
        "Rationale",
        validators=[_length(ThreatInput, "treatment_rationale")],
    )
    acceptance_approver_id = SelectField(
        "Acceptance approved by", choices=[], validate_choice=False
    )
    acceptance_expires_on = DateField("Acceptance expires on", validators=[Optional()])
    version = HiddenField()
    submit = SubmitField("Save")

    @property
    def method(self) -> Method:
        try:
            return Method(self.scoring_method.data)
        except ValueError:
            return Method.MATRIX

    def method_inputs(self):
        """The chosen method's inputs: the vector, or the factors by name."""
        if self.method is Method.CVSS:
            return (self.cvss_vector.data or "").strip()
        if self.method in (Method.OWASP, Method.DREAD):
            prefix = self.method.value
            names = OWASP_FACTORS if self.method is Method.OWASP else DREAD_FACTORS
            return {name: getattr(self, f"{prefix}_{name}").data for name in names}
        return ""

    def fill_method(self, method: str, inputs) -> None:
        """Show stored inputs (the vector text, or the factors mapping)."""
        self.scoring_method.data = method
        if method == Method.CVSS.value:
            self.cvss_vector.data = inputs or ""
        elif method in (Method.OWASP.value, Method.DREAD.value) and isinstance(inputs, dict):
            for name, value in inputs.items():
                field = getattr(self, f"{method}_{name}", None)
                if field is not None:
                    field.data = value

    @property
    def error_fields(self) -> dict[str, str]:
        """Where the service's messages about the method's inputs are shown."""
        target = "cvss_vector" if self.method is Method.CVSS else "scoring_method"
        return {"scoring_inputs": target}

    def validate_method_only(self) -> bool:
        """Check the token and the scoring method's own fields (to work out the cell
        without saving, whatever the rest of the form holds)."""
        if self.meta.csrf:
            try:
                validate_csrf(self.csrf_token.data)
            except ValidationError:
                self.form_errors.append("The form has expired: reload the page and try again.")
                return False
        names = [f"{self.method.value}_{n}" for n in self._factor_names()]
        valid = True
        for name in ["scoring_method", "cvss_vector", *names]:
            valid = getattr(self, name).validate(self) and valid
        return self._factors_given() and valid

    def _factor_names(self) -> dict[str, str]:
        if self.method is Method.OWASP:
            return OWASP_FACTORS
        if self.method is Method.DREAD:
            return DREAD_FACTORS
        return {}

    def _factors_given(self) -> bool:
        valid = True
        if self.method in (Method.OWASP, Method.DREAD):
            top = FACTOR_MAX[self.method]
            for name, label in self._factor_names().items():
                field = getattr(self, f"{self.method.value}_{name}")
                if field.data is None and not field.errors:
                    field.errors = [*field.errors, f"{label}: give 0 to {top}."]
                    valid = False
        return valid

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self._factors_given() and valid

    def values(self) -> dict:
        """The plain values the service takes."""
        scored = self._values()
        scored["scoring_method"] = self.method.value
        scored["scoring_inputs"] = self.method_inputs()
        if self.method is not Method.MATRIX:
            # The method gives the inherent cell: the selects are not read.
            del scored["inherent_likelihood"], scored["inherent_impact"]
        return scored

    def _values(self) -> dict:
        # As the form holds them: the input schema reads them ("" for none, ids as text).
        return {name: self[name].data for name in ThreatInput._declared_fields if name in self}


def _factor_field(label: str, top: int) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            Optional(),
            NumberRange(min=0, max=top, message=f"A whole number from 0 to {top}."),
        ],
        render_kw={"inputmode": "numeric"},
    )


# One field per factor (owasp_skill_level, dread_damage, ...), named after the domain's.
for _name, _label in OWASP_FACTORS.items():
    setattr(ThreatForm, f"owasp_{_name}", _factor_field(_label, FACTOR_MAX[Method.OWASP]))
for _name, _label in DREAD_FACTORS.items():
    setattr(ThreatForm, f"dread_{_name}", _factor_field(_label, FACTOR_MAX[Method.DREAD]))


def _stored_field(name: str):
    """The form's field for a value stored as read that the form does not lay out itself:
    a text box, a date or a choice, named and bounded as the input schema declares it."""
    field, title = input_field(name), title_of(name)
    if isinstance(field, Words):
        box = TextAreaField if field.maximum > TITLE_MAX_LENGTH else StringField
        return box(title, validators=[_length(ThreatInput, name)])
    if isinstance(field, Date):
        return DateField(title, validators=[Optional()])
    if isinstance(field, Named):
        members = [(m.value, getattr(m, "label", m.value)) for m in field.enum_cls]
        return SelectField(title, choices=[("", "—"), *members], default="")
    raise TypeError(f"Lay out the form's field for {name} in ThreatForm.")


for _name in STORED_AS_READ:
    if not hasattr(ThreatForm, _name):
        setattr(ThreatForm, _name, _stored_field(_name))


class DatedActionForm(FlaskForm):
    """Archive or restore a threat, effective on a date (default today)."""

    on = DateField("Effective on", validators=[Optional()])


class ReviewForm(FlaskForm):
    """Record a review of a threat: when, its outcome and the next review date."""

    reviewed_on = DateField("Reviewed on", validators=[Optional()])
    outcome = StringField(
        "Outcome",
        validators=[_length(ReviewInput, "outcome")],
    )
    next_review_on = DateField(
        "Next review",
        validators=[Optional()],
        description="Leave empty to use the review interval of the residual level.",
    )
    submit = SubmitField("Record review")


class CategoryForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired("Give the category a name."),
            _length(CategoryInput, "name", "At most {maximum} characters."),
        ],
    )
    submit = SubmitField("Add category")


def _interval_field(level: Level) -> IntegerField:
    return IntegerField(
        f"{level.label} risks: review every (days)",
        validators=[
            InputRequired("Give a number of days."),
            NumberRange(min=1, max=3650, message="From 1 to 3650 days."),
        ],
    )


def _threshold_field(level: Level) -> IntegerField:
    return IntegerField(
        f"{level.label} from score",
        validators=[
            Optional(),
            NumberRange(min=1, max=10_000, message="A whole number of 1 or more."),
        ],
        description="Leave empty to not use this level.",
    )


class RiskSettingsForm(FlaskForm):
    likelihood_labels = TextAreaField(
        "Likelihood labels (one per line, lowest first)",
        validators=[DataRequired("Give at least one label."), Length(max=2000)],
    )
    impact_labels = TextAreaField(
        "Impact labels (one per line, lowest first)",
        validators=[DataRequired("Give at least one label."), Length(max=2000)],
    )
    threshold_medium = _threshold_field(Level.MEDIUM)
    threshold_high = _threshold_field(Level.HIGH)
    threshold_critical = _threshold_field(Level.CRITICAL)
    interval_low = _interval_field(Level.LOW)
    interval_medium = _interval_field(Level.MEDIUM)
    interval_high = _interval_field(Level.HIGH)
    interval_critical = _interval_field(Level.CRITICAL)
    submit = SubmitField("Save settings")


def _cuts_field(label: str) -> StringField:
    return StringField(
        label,
        validators=[Length(max=200, message="At most 200 characters.")],
        description="Cut points, lowest first, separated by commas; empty: even bands.",
    )


class ScoringMethodsForm(FlaskForm):
    """Cut points that turn each method's figures into steps of the matrix."""

    cvss_likelihood = _cuts_field("CVSS: likelihood from exploitability (0–3.9)")
    cvss_impact = _cuts_field("CVSS: impact from the impact subscore (0–6.1)")
    owasp_likelihood = _cuts_field("OWASP: likelihood from the likelihood factors' mean (0–9)")
    owasp_impact = _cuts_field("OWASP: impact from the impact factors' mean (0–9)")
    dread_likelihood = _cuts_field("DREAD: likelihood from the mean of R, E, D (0–10)")
    dread_impact = _cuts_field("DREAD: impact from the mean of D, A (0–10)")
    submit = SubmitField("Save scoring rules")
