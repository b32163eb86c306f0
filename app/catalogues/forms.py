"""Catalogue forms: importing a library file and mapping a record to an entry."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from app.forms import FlaskForm


class ImportForm(FlaskForm):
    file = FileField(
        "Library file",
        validators=[FileRequired("Choose a file.")],
        description="ATT&CK: MITRE's STIX 2.1 bundle (.json). A control framework: "
        ".csv or .yaml in the documented format.",
    )
    name = StringField(
        "Library name",
        validators=[Length(max=160)],
        description="Needed for a CSV file; a bundle or YAML file names its library.",
    )
    version = StringField(
        "Version", validators=[Length(max=60)], description="Default: the file's own version."
    )
    submit = SubmitField("Import")


class MappingForm(FlaskForm):
    library = SelectField("Catalogue", coerce=int, validate_choice=False)
    entry = StringField(
        "Technique or control",
        validators=[InputRequired("Choose an entry."), Length(max=340)],
        description="Type a reference or a name and pick from the list (T1566, A.5.15).",
    )
    on = DateField("From", validators=[InputRequired("Give a date.")])
    submit = SubmitField("Map")


class EndMappingForm(FlaskForm):
    on = DateField("Until", validators=[InputRequired("Give a date.")])
    submit = SubmitField("End")
