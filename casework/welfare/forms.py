"""The schedule form (make and change), the record-a-check form, and the one-button forms
that pause, resume and end a schedule."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Form,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from casework.contacts.services import NOTE_MAX
from casework.web.fields import GovDateField, InChoices, parse_time, strip, version_field
from casework.welfare.labels import DAY_NAMES, PATTERN_LABELS
from casework.welfare.models import Pattern
from casework.welfare.queries import Choices
from casework.welfare.rules import MAX_INTERVAL_DAYS
from casework.welfare.services import CHECK_OUTCOMES

OUTCOME_HINTS = {
    "seen_well": "You saw them and had no concerns",
    "seen_concerns": "You saw them and are worried: your manager is told",
    "not_found": "They were not where you expected: your manager is told",
    "declined": "They did not want the check",
    "no_answer": "You tried but could not reach them: your manager is told",
}
OUTCOME_TEXT = {"no_answer": "Attempted \N{EN DASH} no contact"}


def _time_of_day(_form: Form, field: Any) -> None:
    if not field.data:
        raise ValidationError("Enter the time of the check, like 09:00 or 2:30pm")
    if parse_time(field.data) is None:
        raise ValidationError("Enter a time like 09:00 or 2:30pm")


class ScheduleForm(FlaskForm):
    kind = RadioField(
        "What kind of check?",
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select the kind of check")],
    )
    reason = SelectField(
        "Reason",
        widget=GovSelect(),
        validate_choice=False,
        description="A code only: write any details in a contact note, not here",
        validators=[InChoices("Select a reason from the list")],
    )
    pattern = RadioField(
        "How often?",
        choices={pattern.value: PATTERN_LABELS[pattern] for pattern in Pattern},
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select how often the check happens")],
    )
    interval_days = IntegerField(
        "Every how many days?",
        widget=GovTextInput(),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=MAX_INTERVAL_DAYS,
                message=f"Enter how often, from 1 to {MAX_INTERVAL_DAYS} days",
            ),
        ],
    )
    weekdays = SelectMultipleField(
        "Which days?",
        choices={str(index): name for index, name in enumerate(DAY_NAMES)},
        widget=GovCheckboxesInput(),
        validate_choice=False,
        validators=[InChoices("Select at least one day of the week", optional=True)],
    )
    at_time = StringField(
        "Time of the check",
        widget=GovTextInput(),
        filters=[strip],
        description="UK time, for example 09:00 or 2:30pm",
        validators=[_time_of_day, Length(max=10, message="Enter a time like 09:00")],
    )
    working_days_only = BooleanField("Working days only", widget=GovCheckboxInput())
    start_date = GovDateField("Start date", required=True, description="For example, 27 3 2026")
    end_date = GovDateField("End date (optional)", description="Leave blank to keep going")
    assignee = SelectField(
        "Who will do the checks?",
        widget=GovSelect(),
        validate_choice=False,
        description="A worker, or a team: anyone in the team can record the check",
        validators=[InChoices("Select who will do the checks: a worker or a team")],
    )
    request_agency = SelectField(
        "Partner agency for a welfare visit",
        widget=GovSelect(),
        validate_choice=False,
        description=(
            "If a check is long overdue, this agency is asked for a welfare visit, but only "
            "when consent or another lawful basis covers sharing with it"
        ),
        validators=[InChoices("Select a partner agency from the list", optional=True)],
    )
    submit = SubmitField("Save schedule", widget=GovSubmitInput())

    def validate_interval_days(self, field: Any) -> None:
        if self.pattern.data == Pattern.EVERY_N_DAYS.value and field.data is None:
            raise ValidationError(f"Enter how often, from 1 to {MAX_INTERVAL_DAYS} days")

    def validate_weekdays(self, field: Any) -> None:
        if self.pattern.data == Pattern.WEEKDAYS.value and not field.data:
            raise ValidationError("Select at least one day of the week")

    def offer(self, choices: Choices) -> None:
        """Fill the choices that depend on the configuration and the viewer's agency."""
        self.kind.choices = {key: label for key, label, _description in choices.kinds}
        reasons: dict[str, str] = {}
        for found in choices.reasons.values():
            for code, label in found:
                reasons.setdefault(code, label)
        self.reason.choices = {"": "Select a reason", **reasons}
        self.assignee.choices = {
            "": "Select a worker or a team",
            **{f"user:{uid}": name for uid, name in choices.workers},
            **{f"team:{tid}": f"{name} (team)" for tid, name in choices.teams},
        }
        self.request_agency.choices = {
            "": "The first partner of the right kind",
            **{str(aid): name for aid, name in choices.request_agencies},
        }


class ChangeScheduleForm(ScheduleForm):
    version = version_field()
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class RecordCheckForm(FlaskForm):
    outcome = RadioField(
        "What happened?",
        choices={o.value: OUTCOME_TEXT.get(o.value, o.label) for o in CHECK_OUTCOMES},
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select what happened")],
    )
    note = TextAreaField(
        "Note (optional)",
        widget=GovTextArea(),
        filters=[strip],
        description="Kept encrypted, like every note",
        validators=[Length(max=NOTE_MAX, message=f"Note must be {NOTE_MAX:,} characters or fewer")],
    )
    submit = SubmitField("Save check", widget=GovSubmitInput())


class ScheduleActionForm(FlaskForm):
    """Pause, resume or end: a button with the version the page was opened at."""

    version = version_field()
