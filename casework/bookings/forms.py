"""One small form per question of the custody booking journey.

The forms check only the shape of what was typed (a real date, a time of day, an option that
was offered); what the booking's values must be (not in the past, 5 working days after a
disputed sample, ...) is the pathway engine's, asked by the views through the services.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import HiddenField, RadioField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from casework.web.fields import GovDateField, InChoices, parse_time, strip


def _text(label: str, max_length: int, required: str) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        filters=[strip],
        validators=[
            DataRequired(required),
            Length(max=max_length, message=f"{label} must be {max_length} characters or fewer"),
        ],
    )


class PersonSearchForm(FlaskForm):
    """Who is being booked: searched for first, and the minimal record of a new person."""

    given_name = _text("Given name", 100, "Enter the person's given name")
    family_name = _text("Family name", 100, "Enter the person's family name")
    date_of_birth = GovDateField(
        "Date of birth", description="For example, 27 3 1985", required=True
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class MatchForm(FlaskForm):
    person = RadioField(
        "Is this one of these people?",
        widget=GovRadioInput(),
        validators=[InChoices("Select the person, or add a new person")],
        validate_choice=False,
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ChoiceForm(FlaskForm):
    """One question answered by picking an option (the test result, the offence, yes or no,
    the treatment provider). The view sets the choices and the message."""

    answer = RadioField(widget=GovRadioInput(), validate_choice=False)
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def offer(self, choices: list[tuple[str, str]], message: str) -> None:
        self.answer.choices = choices
        self.answer.validators = [InChoices(message)]


class DateForm(FlaskForm):
    answer = GovDateField("Date", required=True)
    submit = SubmitField("Continue", widget=GovSubmitInput())


@cache
def date_form(label: str, hint: str) -> type[DateForm]:
    """A date question whose errors name the date ("Date of the test must include a month"):
    the label is the field's from the pathway, so it must be known before the form reads the
    request."""
    return type(
        "DateQuestionForm",
        (DateForm,),
        {"answer": GovDateField(label, description=hint, required=True)},
    )


class TextForm(FlaskForm):
    answer = StringField(widget=GovTextInput(), filters=[strip])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class AppointmentForm(FlaskForm):
    """The date (GOV.UK date input) and the time of the initial assessment."""

    day = GovDateField(
        "Date of the initial assessment", description="For example, 27 3 2026", required=True
    )
    time = StringField(
        "Time",
        widget=GovTextInput(),
        filters=[strip],
        description="Use the 24-hour clock or am and pm, for example 14:30 or 2:30pm",
        validators=[
            DataRequired("Enter the time of the initial assessment"),
            Length(max=10, message="Enter a time like 14:30 or 2:30pm"),
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def validate_time(self, field: StringField) -> None:
        if field.data and parse_time(field.data) is None:
            raise ValidationError("Enter a time like 14:30 or 2:30pm")

    def wall_clock(self) -> str | None:
        """``YYYY-MM-DDTHH:MM`` (Europe/London), as the engine takes it."""
        day: date | None = self.day.data
        moment = parse_time(self.time.data or "")
        if day is None or moment is None:
            return None
        return f"{day.isoformat()}T{moment.strftime('%H:%M')}"


class CheckAnswersForm(FlaskForm):
    #: The journey the page showed: a page left open from an earlier journey cannot book
    #: with this journey's answers.
    journey = HiddenField()
    submit = SubmitField("Book the assessment", widget=GovSubmitInput())
