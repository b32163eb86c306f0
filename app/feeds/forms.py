from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from app.feeds.inputs import FEED_KINDS, NAME_MAX, URL_MAX
from app.forms import FlaskForm


class FeedForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name the feed."), Length(max=NAME_MAX)])
    kind = SelectField("Kind", choices=list(FEED_KINDS.items()), default="stix")
    url = StringField(
        "URL or file", validators=[Length(max=URL_MAX)], description="Where the bundles come from."
    )
    description = TextAreaField("Description")
    submit = SubmitField("Register feed")


class BundleForm(FlaskForm):
    file = FileField("STIX 2.1 bundle (JSON)", validators=[FileRequired("Choose a file.")])
    submit = SubmitField("Import bundle")


class AcceptForm(FlaskForm):
    # The upper bounds are the risk matrix's (admin setting), checked by the register's rules.
    likelihood = IntegerField("Likelihood", default=3, validators=[NumberRange(min=1)])
    impact = IntegerField("Impact", default=3, validators=[NumberRange(min=1)])
    submit = SubmitField("Accept")
