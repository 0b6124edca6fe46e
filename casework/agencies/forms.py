"""Forms for the agency and team administration pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import AnyOf, DataRequired, Length

from casework.agencies.models import AGENCY_KIND_LABELS
from casework.web.fields import InChoices, strip, version_field

KIND_CHOICES = {kind.value: label for kind, label in AGENCY_KIND_LABELS.items()}


def _name_field() -> StringField:
    return StringField(
        "Name",
        widget=GovTextInput(),
        filters=[strip],
        description="As partners know it, for example Northdale Recovery Service",
        validators=[
            DataRequired("Enter the agency's name"),
            Length(max=200, message="Agency name must be 200 characters or fewer"),
        ],
    )


def _kind_field() -> RadioField:
    return RadioField(
        "Kind of agency",
        choices=KIND_CHOICES,
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select the kind of agency")],
    )


class CreateAgencyForm(FlaskForm):
    name = _name_field()
    kind = _kind_field()
    submit = SubmitField("Create agency", widget=GovSubmitInput())


class EditAgencyForm(FlaskForm):
    name = _name_field()
    kind = _kind_field()
    version = version_field()
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class ConfirmAgencyForm(FlaskForm):
    """Disable or enable: a button, the CSRF token and the version."""

    version = version_field()
    confirm = SubmitField("Confirm", widget=GovSubmitInput())


class CreateTeamForm(FlaskForm):
    name = StringField(
        "Team name",
        widget=GovTextInput(),
        filters=[strip],
        validators=[
            DataRequired("Enter the team's name"),
            Length(max=200, message="Team name must be 200 characters or fewer"),
        ],
    )
    submit = SubmitField("Create team", widget=GovSubmitInput())


class AddMemberForm(FlaskForm):
    user_id = SelectField(
        "User",
        description="Active users of this agency who are not in the team yet",
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select a user to add to the team")],
    )
    is_manager = BooleanField("Team manager", widget=GovCheckboxInput())
    submit = SubmitField("Add to team", widget=GovSubmitInput())


class ManagerForm(FlaskForm):
    """Make a member a manager of the team, or not (a button per member)."""

    manager = HiddenField(validators=[AnyOf(["yes", "no"], message="Choose yes or no")])


class RemoveMemberForm(FlaskForm):
    """Remove a member from the team (a button per member): the CSRF token only."""
