from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.forms import FlaskForm
from app.models.user import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, Role

ROLE_CHOICES = [(role.value, role.label) for role in Role]


class UserForm(FlaskForm):
    email = StringField(
        "Email",
        validators=[
            DataRequired("Enter an email address."),
            Email("Enter a valid email address.", check_deliverability=False),
            Length(max=254),
        ],
    )
    name = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=120)])
    role = SelectField(
        "Role", choices=ROLE_CHOICES, validate_choice=True, default=Role.VIEWER.value
    )
    is_active_account = BooleanField("Active (may sign in)", default=True)
    password = PasswordField(
        "Password",
        validators=[
            Optional(),
            Length(
                min=PASSWORD_MIN_LENGTH,
                max=PASSWORD_MAX_LENGTH,
                message=f"Use {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters.",
            ),
        ],
        description="Leave empty to keep the current password.",
    )
    submit = SubmitField("Save")


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    user = SelectField("User", choices=[], validate_choice=False)
    entity = SelectField("Entity", choices=[], validate_choice=False)
    action = SelectField("Action", choices=[], validate_choice=False)
    address = StringField("Address", validators=[Optional(), Length(max=64)])
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])


class TwoFactorRolesForm(FlaskForm):
    """Which roles must use two-factor sign-in (one checkbox per role)."""

    admin = BooleanField(Role.ADMIN.label)
    security = BooleanField(Role.SECURITY.label)
    manager = BooleanField(Role.MANAGER.label)
    viewer = BooleanField(Role.VIEWER.label)
    submit = SubmitField("Save")

    def chosen(self) -> set[Role]:
        return {role for role in Role if self[role.value].data}
