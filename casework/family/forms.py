"""Forms for the professional family and caseloads."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
)
from wtforms import BooleanField, RadioField, SelectField, SubmitField

from casework.people.codes import ClosureReason, FamilyRole
from casework.web.fields import GovDateField, InChoices, version_field

ROLE_CHOICES = {role.value: role.label for role in FamilyRole}


class AddInvolvementForm(FlaskForm):
    agency = SelectField(
        "Agency",
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select an agency")],
    )
    worker = SelectField(
        "Named worker (optional)",
        description="Only for your own agency: other agencies name their own worker",
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select a worker from the list", optional=True)],
    )
    role = SelectField(
        "Role in the professional family",
        choices=ROLE_CHOICES,
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select a role")],
    )
    started_on = GovDateField("Start date", required=True, description="For example, 27 3 2026")
    make_lead = BooleanField("Make this the lead professional", widget=GovCheckboxInput())
    submit = SubmitField("Add to the professional family", widget=GovSubmitInput())


class EditInvolvementForm(FlaskForm):
    worker = SelectField(
        "Named worker",
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select a worker from the list", optional=True)],
    )
    role = SelectField(
        "Role in the professional family",
        choices=ROLE_CHOICES,
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select a role")],
    )
    version = version_field()
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class EndInvolvementForm(FlaskForm):
    reason = RadioField(
        "Why is the involvement ending?",
        choices={
            reason.value: reason.label
            for reason in ClosureReason
            if reason is not ClosureReason.DIED
        },
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select why the involvement is ending")],
    )
    ended_on = GovDateField("End date", required=True, description="For example, 27 3 2026")
    version = version_field()
    submit = SubmitField("End involvement", widget=GovSubmitInput())


class MakeLeadForm(FlaskForm):
    version = version_field()
    submit = SubmitField("Make lead", widget=GovSubmitInput())
