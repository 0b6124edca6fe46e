"""The quick contact log (phone first) and note revisions."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Form,
    IntegerField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from casework.contacts.services import NOTE_MAX, PLACE_MAX
from casework.people.codes import ContactKind, ContactOutcome
from casework.web.fields import GovDateField, InChoices, parse_time, strip, version_field


def _time_of_day(_form: Form, field: Any) -> None:
    if field.data and parse_time(field.data) is None:
        raise ValidationError("Enter a time like 14:30 or 2:30pm")


class QuickLogForm(FlaskForm):
    kind = RadioField(
        "What kind of contact?",
        choices={kind.value: kind.label for kind in ContactKind},
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select what kind of contact it was")],
    )
    outcome = RadioField(
        "Outcome",
        choices={outcome.value: outcome.label for outcome in ContactOutcome},
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select the outcome")],
    )
    note = TextAreaField(
        "Note (optional)",
        widget=GovTextArea(),
        filters=[strip],
        validators=[Length(max=NOTE_MAX, message=f"Note must be {NOTE_MAX:,} characters or fewer")],
    )
    agency_only = BooleanField("Only my agency may read this note", widget=GovCheckboxInput())
    occurred_on = GovDateField("Date", required=True, description="For example, 27 3 2026")
    occurred_time = StringField(
        "Time",
        widget=GovTextInput(),
        filters=[strip],
        description="For example, 14:30",
        validators=[_time_of_day, Length(max=10, message="Enter a time like 14:30")],
    )
    place = StringField(
        "Place (optional)",
        widget=GovTextInput(),
        filters=[strip],
        validators=[
            Length(max=PLACE_MAX, message=f"Place must be {PLACE_MAX} characters or fewer")
        ],
    )
    duration_minutes = IntegerField(
        "Duration in minutes (optional)",
        widget=GovTextInput(),
        validators=[
            Optional(),
            NumberRange(min=0, max=1440, message="Duration must be between 0 and 1,440 minutes"),
        ],
    )
    submit = SubmitField("Save contact", widget=GovSubmitInput())


class ReviseNoteForm(FlaskForm):
    note = TextAreaField(
        "Note",
        widget=GovTextArea(),
        filters=[strip],
        validators=[Length(max=NOTE_MAX, message=f"Note must be {NOTE_MAX:,} characters or fewer")],
    )
    agency_only = BooleanField("Only my agency may read this note", widget=GovCheckboxInput())
    version = version_field()
    submit = SubmitField("Save new version", widget=GovSubmitInput())
