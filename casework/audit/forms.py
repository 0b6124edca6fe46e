"""The audit search form (a GET form: nothing changes)."""

from __future__ import annotations

import uuid

from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovTextInput
from wtforms import Form, HiddenField, SelectField, StringField
from wtforms.validators import Email, Length, Optional, ValidationError

from casework.audit.queries import ACTION_GROUPS, AuditFilter
from casework.web.fields import GovDateField, InChoices, strip


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


class AuditSearchForm(Form):
    person = HiddenField()
    user_email = StringField(
        "User's email address",
        widget=GovTextInput(),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=320, message="Email address must be 320 characters or fewer"),
            Email(message="Enter an email address, like name@example.org"),
        ],
    )
    agency = SelectField(
        "Their agency",
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select an agency from the list", optional=True)],
    )
    group = SelectField(
        "What they did",
        choices={"": "Anything"} | ACTION_GROUPS,
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select from the list", optional=True)],
    )
    outcome = SelectField(
        "Outcome",
        choices={"": "Any", "allowed": "Allowed", "denied": "Refused", "failed": "Failed"},
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select from the list", optional=True)],
    )
    from_day = GovDateField("From", description="For example, 1 11 2026")
    to_day = GovDateField("To", description="For example, 30 11 2026")

    def validate_person(self, field: HiddenField) -> None:
        if field.data and _uuid(field.data) is None:
            raise ValidationError("Choose the person again")

    def validate_to_day(self, field: GovDateField) -> None:
        if field.data and self.from_day.data and field.data < self.from_day.data:
            raise ValidationError("The end date must be the same as or after the start date")

    def to_filter(self) -> AuditFilter:
        return AuditFilter(
            person_id=_uuid(self.person.data),
            user_email=self.user_email.data or "",
            agency_id=_uuid(self.agency.data),
            group=self.group.data or "",
            outcome=self.outcome.data or "",
            from_day=self.from_day.data,
            to_day=self.to_day.data,
        )
