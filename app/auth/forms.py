from wtforms import BooleanField, IntegerField, PasswordField, StringField, SubmitField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.forms import FlaskForm
from app.models.user import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH


class LoginForm(FlaskForm):
    email = StringField(
        "Email", validators=[DataRequired("Enter your email address."), Length(max=254)]
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Enter your password."),
            Length(max=PASSWORD_MAX_LENGTH, message="That password is too long."),
        ],
    )
    remember = BooleanField("Keep me signed in on this device")
    submit = SubmitField("Sign in")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password.")]
    )
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired("Choose a new password."),
            Length(
                min=PASSWORD_MIN_LENGTH,
                max=PASSWORD_MAX_LENGTH,
                message=f"Use {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters.",
            ),
        ],
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[EqualTo("new_password", message="The two new passwords differ.")],
    )
    submit = SubmitField("Change password")

    def validate_new_password(self, field):
        if field.data and field.data == self.current_password.data:
            raise ValidationError("The new password must differ from the current one.")


class ApiTokenForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired("Give the token a name."), Length(max=120)],
        description="What will use it, e.g. “nightly import script”.",
    )
    expires_days = IntegerField(
        "Expires after (days)",
        validators=[Optional(), NumberRange(min=1, max=3650, message="Use 1 to 3650 days.")],
        description="Leave empty for a token that does not expire.",
    )
    submit = SubmitField("Create token")


class SecondStepForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired("Enter the code from your app."), Length(max=32)],
        description="The 6-digit code from your authenticator app, or one of your recovery codes.",
    )
    submit = SubmitField("Verify")


class _AppCodeForm(FlaskForm):
    """A change a current code from the authenticator app proves."""

    code = StringField(
        "Code from the app",
        validators=[DataRequired("Enter the 6-digit code your app shows."), Length(max=16)],
    )


class EnrolForm(_AppCodeForm):
    submit = SubmitField("Turn on two-factor sign-in")


class RecoveryCodesForm(_AppCodeForm):
    submit = SubmitField("Replace my recovery codes")


class TurnOffTwoFactorForm(FlaskForm):
    code = StringField("Code from the app", validators=[Optional(), Length(max=16)])
    password = PasswordField(
        "Or your password",
        validators=[Optional(), Length(max=PASSWORD_MAX_LENGTH)],
    )
    submit = SubmitField("Turn off two-factor sign-in")

    def validate(self, extra_validators=None):
        # Either one will do; Optional() would skip a field validator on an empty code.
        if not super().validate(extra_validators):
            return False
        if not (self.code.data or "").strip() and not self.password.data:
            self.code.errors = ["Enter a code from your app, or your password."]
            return False
        return True
