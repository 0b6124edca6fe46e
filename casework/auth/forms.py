"""Sign-in, two-factor and password forms."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovPasswordInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import PasswordField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from casework.web.fields import InChoices


class SignInForm(FlaskForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter your email address"),
            Length(max=320, message="Email address must be 320 characters or fewer"),
            Email(
                "Enter an email address in the correct format, like name@example.org",
                check_deliverability=False,
            ),
        ],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[DataRequired("Enter your password")],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class CodeForm(FlaskForm):
    code = StringField(
        "Security code",
        widget=GovTextInput(),
        description="The 6-digit code shown in your authenticator app",
        validators=[
            DataRequired("Enter the 6-digit security code"),
            Length(max=20, message="Enter the 6-digit security code"),
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[DataRequired("Enter your current password")],
    )
    new_password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description="A few unrelated words are easy to remember and hard to guess.",
        validators=[DataRequired("Enter a new password")],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A form with only a button (sign out, sign out everywhere): carries the CSRF token."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


def _uk_mobile(_form: Any, field: Any) -> None:
    from casework.auth.services import normalise_mobile

    if field.data and normalise_mobile(field.data) is None:
        raise ValidationError("Enter a UK mobile number, like 07700 900123 or +44 7700 900123")


class NotificationPreferencesForm(FlaskForm):
    channels = SelectMultipleField(
        "How else to tell you",
        choices={"email": "Also by email", "sms": "Also by text message"},
        widget=GovCheckboxesInput(),
        validate_choice=False,
        validators=[InChoices("Select email, text message or neither", optional=True)],
    )
    mobile_number = StringField(
        "Work mobile number",
        widget=GovTextInput(),
        description="For text messages. For example, 07700 900123",
        validators=[
            Length(max=20, message="Enter a UK mobile number, like 07700 900123"),
            _uk_mobile,
        ],
    )
    submit = SubmitField("Save notification settings", widget=GovSubmitInput())

    def validate_mobile_number(self, field: Any) -> None:
        if "sms" in (self.channels.data or []) and not (field.data or "").strip():
            raise ValidationError("Enter your work mobile number to get text messages")
