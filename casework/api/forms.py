"""Forms for the administrators' API token pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from casework.access.rules import API_SCOPES
from casework.api.services import SERVICE_ROLES
from casework.web.fields import InChoices, strip

LIFETIMES = {"30": "30 days", "90": "90 days", "180": "180 days", "365": "365 days"}


class CreateTokenForm(FlaskForm):
    name = StringField(
        "Name of the token",
        description="Say which system uses it, for example 'Northdale custody suite system'.",
        widget=GovTextInput(),
        filters=[strip],
        validators=[
            DataRequired("Enter a name for the token"),
            Length(max=120, message="The name must be 120 characters or fewer"),
        ],
    )
    user_id = SelectField(
        "Who the token acts as",
        description="A user or a service account. The token can do only what its account's "
        "role and agency allow, narrowed by the scopes below.",
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select who the token acts as")],
    )
    scopes = SelectMultipleField(
        "Scopes",
        choices=API_SCOPES,
        description="Select all that apply.",
        widget=GovCheckboxesInput(),
        validate_choice=False,
        validators=[InChoices("Select at least one scope")],
    )
    lifetime = RadioField(
        "How long the token lasts",
        choices=LIFETIMES,
        default="90",
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select how long the token lasts")],
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())


class CreateServiceAccountForm(FlaskForm):
    name = StringField(
        "Name of the service account",
        description="The system it stands for, for example 'Northdale custody system'.",
        widget=GovTextInput(),
        filters=[strip],
        validators=[
            DataRequired("Enter a name for the service account"),
            Length(max=200, message="The name must be 200 characters or fewer"),
        ],
    )
    agency_id = SelectField(
        "Agency",
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select the agency the service account belongs to")],
    )
    role = RadioField(
        "Role it acts with",
        choices={role.value: role.label for role in SERVICE_ROLES},
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select the role the service account acts with")],
    )
    submit = SubmitField("Create service account", widget=GovSubmitInput())


class RevokeTokenForm(FlaskForm):
    confirm = SubmitField("Revoke token", widget=GovSubmitInput())
