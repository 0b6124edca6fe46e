"""The forms to start and end a treatment episode, and to add or replace a prevalence
estimate."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import IntegerField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import Optional, StopValidation
from wtforms.widgets import HiddenInput

from casework.treatment.models import DischargeReason, Modality, SubstanceGroup
from casework.treatment.services import (
    ESTIMATE_MAX,
    SOURCE_MAX,
    YEAR_MAX,
    YEAR_MIN,
)
from casework.web.fields import GovDateField, InChoices, strip, version_field

GROUP_CHOICES = {group.value: group.label for group in SubstanceGroup}
MODALITY_CHOICES = {modality.value: modality.label for modality in Modality}
_YEAR_MESSAGE = f"Enter a year from {YEAR_MIN} to {YEAR_MAX}"
_ESTIMATE_MESSAGE = "Enter the estimate as a whole number of people, 1 or more"
DISCHARGE_CHOICES = {reason.value: reason.label for reason in DischargeReason}


class StartEpisodeForm(FlaskForm):
    started_on = GovDateField(
        "Date treatment started", required=True, description="For example, 27 3 2026"
    )
    substance_group = RadioField(
        "Substance group",
        choices=GROUP_CHOICES,
        widget=GovRadioInput(),
        validate_choice=False,
        description="As in the national treatment dataset",
        validators=[InChoices("Select the substance group")],
    )
    modality = RadioField(
        "Main treatment",
        choices=MODALITY_CHOICES,
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select the main treatment")],
    )
    submit = SubmitField("Start episode", widget=GovSubmitInput())


class EndEpisodeForm(FlaskForm):
    ended_on = GovDateField(
        "Date treatment ended", required=True, description="For example, 27 3 2026"
    )
    discharge_reason = RadioField(
        "Why did the episode end?",
        choices=DISCHARGE_CHOICES,
        widget=GovRadioInput(),
        validate_choice=False,
        description=(
            "\N{LEFT DOUBLE QUOTATION MARK}Died\N{RIGHT DOUBLE QUOTATION MARK} ends the episode "
            "only: record the death on the person\N{RIGHT SINGLE QUOTATION MARK}s record"
        ),
        validators=[InChoices("Select why the episode ended")],
    )
    version = version_field()
    submit = SubmitField("End episode", widget=GovSubmitInput())


class _WholeNumber:
    """A whole number in a range, typed in a text box (GOV.UK: no number spinner)."""

    def __init__(self, low: int, high: int, message: str) -> None:
        self.low, self.high, self.message = low, high, message

    def __call__(self, _form: Any, field: Any) -> None:
        text = (field.data or "").replace(",", "").strip()
        if not text.isdigit() or not self.low <= int(text) <= self.high:
            raise StopValidation(self.message)


class EstimateForm(FlaskForm):
    substance_group = SelectField(
        "Substance group",
        choices={"": "Select a substance group", **GROUP_CHOICES},
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select the substance group")],
    )
    year = StringField(
        "Year",
        widget=GovTextInput(),
        filters=[strip],
        description="The first calendar year of the financial year, for example 2025 for 2025/26",
        validators=[_WholeNumber(YEAR_MIN, YEAR_MAX, _YEAR_MESSAGE)],
    )
    estimate = StringField(
        "Estimated number of people",
        widget=GovTextInput(),
        filters=[strip],
        validators=[_WholeNumber(1, ESTIMATE_MAX, _ESTIMATE_MESSAGE)],
    )
    source = StringField(
        "Source",
        widget=GovTextInput(),
        filters=[strip],
        description="Where the estimate comes from, for example a published prevalence study",
    )
    #: The version of the estimate being replaced (blank when adding).
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])
    submit = SubmitField("Save estimate", widget=GovSubmitInput())

    def validate_source(self, field: Any) -> None:
        if not field.data:
            raise StopValidation("Enter the source of the estimate")
        if len(field.data) > SOURCE_MAX:
            raise StopValidation(f"Source must be {SOURCE_MAX} characters or fewer")

    @property
    def year_value(self) -> int:
        return int((self.year.data or "0").replace(",", ""))

    @property
    def estimate_value(self) -> int:
        return int((self.estimate.data or "0").replace(",", ""))
