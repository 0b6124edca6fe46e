"""Forms for the user administration pages."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Form,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, Length

from casework.access.roles import ROLE_HINTS, Role
from casework.web.fields import InChoices, strip, version_field

#: value -> label (WTForms' shorthand: tuples are deprecated).
ROLE_CHOICES = {role.value: role.label for role in Role}


def role_items() -> dict[str, Any]:
    """Render-time parameters giving each role checkbox its hint (a fresh dict each call:
    the widget consumes it)."""
    return {"items": [{"hint": {"text": ROLE_HINTS[role]}} for role in Role]}


def _roles_field() -> SelectMultipleField:
    return SelectMultipleField(
        "Roles",
        choices=ROLE_CHOICES,
        description="Select all that apply. Administrators cannot see case records.",
        widget=GovCheckboxesInput(),
        validate_choice=False,
        validators=[InChoices("Select at least one role")],
    )


def _full_name_field() -> StringField:
    return StringField(
        "Full name",
        widget=GovTextInput(),
        filters=[strip],
        validators=[
            DataRequired("Enter the user's full name"),
            Length(max=200, message="Full name must be 200 characters or fewer"),
        ],
    )


class UserFilterForm(Form):
    """The filters above the list of users: a GET form, so no CSRF token."""

    q = StringField(
        "Name or email address",
        widget=GovTextInput(),
        validators=[Length(max=200, message="Search text must be 200 characters or fewer")],
    )
    agency = SelectField(
        "Agency",
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select an agency from the list", optional=True)],
    )
    role = SelectField(
        "Role",
        choices={"": "All roles", **ROLE_CHOICES},
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select a role from the list", optional=True)],
    )
    include_disabled = BooleanField("Include disabled accounts", widget=GovCheckboxInput())


class CreateUserForm(FlaskForm):
    full_name = _full_name_field()
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        description="Their work email address. They sign in with it. It cannot be changed later.",
        filters=[strip],
        validators=[
            DataRequired("Enter the user's email address"),
            Length(max=320, message="Email address must be 320 characters or fewer"),
            Email(
                "Enter an email address in the correct format, like name@example.org",
                check_deliverability=False,
            ),
        ],
    )
    agency_id = SelectField(
        "Agency",
        description="The agency they work for. It cannot be changed later.",
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select the user's agency")],
    )
    roles = _roles_field()
    submit = SubmitField("Create user", widget=GovSubmitInput())


class EditUserForm(FlaskForm):
    full_name = _full_name_field()
    roles = _roles_field()
    version = version_field()
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class ConfirmUserForm(FlaskForm):
    """Disable, enable or reset: a button, the CSRF token and the version."""

    version = version_field()
    confirm = SubmitField("Confirm", widget=GovSubmitInput())
