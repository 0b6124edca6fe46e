"""Forms for finding, creating and correcting a person, and for alerts, needs and a death."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    Form,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from casework.people.codes import HousingStatus, Sex, information
from casework.people.records import Details, Names, PersonFields
from casework.people.validation import (
    nhs_number_problem,
    normalise_postcode,
    phone_problem,
    pnc_problem,
)
from casework.web.fields import GovDateField, InChoices, strip, version_field


def _check(problem_of: Any) -> Any:
    def validate(_form: Form, field: Any) -> None:
        if field.data:
            problem = problem_of(field.data)
            if problem:
                raise ValidationError(problem)

    return validate


def _postcode(_form: Form, field: Any) -> None:
    if field.data and normalise_postcode(field.data) is None:
        raise ValidationError("Enter a real postcode, like NX1 4AB")


def _text(label: str, max_length: int, **kwargs: Any) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        filters=[strip],
        validators=[
            *kwargs.pop("validators", []),
            Length(max=max_length, message=f"{label} must be {max_length} characters or fewer"),
        ],
        **kwargs,
    )


class SearchForm(Form):
    """Find a person: a GET form (no CSRF token, nothing changes)."""

    name = _text("Name", 200, description="Any of their names. Sound-alike spellings match.")
    date_of_birth = GovDateField("Date of birth", description="For example, 27 3 1985")
    identifier = _text("NHS number, PNC ID or local ID", 40)


class PersonForm(FlaskForm):
    given_name = _text("Given name", 100, validators=[DataRequired("Enter a given name")])
    family_name = _text("Family name", 100, validators=[DataRequired("Enter a family name")])
    known_as = _text("Known as (optional)", 100, description="A name they prefer, or a street name")
    aliases = TextAreaField(
        "Other names (optional)",
        description="Previous or other names, one on each line",
        widget=GovTextArea(),
        filters=[strip],
        validators=[Length(max=2000, message="Other names must be 2,000 characters or fewer")],
    )
    date_of_birth = GovDateField(
        "Date of birth (optional)", description="For example, 27 3 1985. Leave empty if not known"
    )
    sex = RadioField(
        "Sex",
        choices={sex.value: sex.label for sex in Sex},
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select their sex, or Not known")],
    )
    nhs_number = _text(
        "NHS number (optional)",
        20,
        validators=[_check(nhs_number_problem)],
        description="10 digits",
    )
    pnc_id = _text(
        "PNC ID (optional)",
        20,
        validators=[_check(pnc_problem)],
        description="For example, 12/3456789A",
    )
    local_id = _text("Local ID (optional)", 40)
    phone = _text("Phone number (optional)", 30, validators=[_check(phone_problem)])
    email = _text(
        "Email address (optional)",
        320,
        validators=[
            Optional(),
            Email("Enter an email address like name@example.org", check_deliverability=False),
        ],
    )
    address = TextAreaField(
        "Address (optional)",
        widget=GovTextArea(),
        filters=[strip],
        validators=[Length(max=500, message="Address must be 500 characters or fewer")],
    )
    postcode = _text("Postcode (optional)", 10, validators=[_postcode])
    housing_status = SelectField(
        "Housing",
        choices={status.value: status.label for status in HousingStatus},
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select their housing situation")],
    )

    def to_fields(self, housing: HousingStatus | None = None) -> PersonFields:
        """The form's values; ``housing`` stands in when the housing field was removed (for
        users who may not read housing)."""
        return PersonFields(
            names=Names(
                self.given_name.data or "",
                self.family_name.data or "",
                self.known_as.data or "",
                tuple(
                    line.strip() for line in (self.aliases.data or "").splitlines() if line.strip()
                ),
            ),
            details=Details(
                date_of_birth=self.date_of_birth.data,
                nhs_number=self.nhs_number.data or "",
                pnc_id=self.pnc_id.data or "",
                local_id=self.local_id.data or "",
                phone=self.phone.data or "",
                email=self.email.data or "",
                address=self.address.data or "",
                postcode=self.postcode.data or "",
            ),
            sex=Sex(self.sex.data),
            housing_status=HousingStatus(self.housing_status.data)
            if "housing_status" in self
            else (housing or HousingStatus.NOT_KNOWN),
        )

    @staticmethod
    def data_from(fields: PersonFields, version: int | None = None) -> dict[str, Any]:
        names, details = fields.names, fields.details
        return {
            "given_name": names.given,
            "family_name": names.family,
            "known_as": names.known_as,
            "aliases": "\n".join(names.aliases),
            "date_of_birth": details.date_of_birth,
            "sex": fields.sex.value,
            "nhs_number": details.nhs_number_display,
            "pnc_id": details.pnc_id,
            "local_id": details.local_id,
            "phone": details.phone,
            "email": details.email,
            "address": details.address,
            "postcode": details.postcode,
            "housing_status": fields.housing_status.value,
            "version": version,
        }


class NewPersonForm(PersonForm):
    """Creating a person: a second submit confirms after the duplicate check."""

    confirmed = HiddenField()
    submit = SubmitField("Continue", widget=GovSubmitInput())


class EditPersonForm(PersonForm):
    version = version_field()
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class AlertForm(FlaskForm):
    alert_type = RadioField(
        "What kind of alert?",
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select the kind of alert")],
    )
    detail = TextAreaField(
        "Details (optional)",
        description="Keep it short and factual. Everyone who can see this alert sees the details.",
        widget=GovCharacterCount(),
        filters=[strip],
        validators=[Length(max=500, message="Details must be 500 characters or fewer")],
    )
    submit = SubmitField("Add alert", widget=GovSubmitInput())

    def set_choices(self, allowed: set[Any]) -> None:
        self.alert_type.choices = {
            code: kind.label
            for code, kind in information().alerts.items()
            if kind.category in allowed
        }


class NeedsForm(FlaskForm):
    needs = SelectMultipleField(
        "Needs",
        description="Select all that apply",
        widget=GovCheckboxesInput(),
        validate_choice=False,
        validators=[InChoices("Select needs from the list", optional=True)],
    )
    submit = SubmitField("Save needs", widget=GovSubmitInput())


class DeathForm(FlaskForm):
    died_on = GovDateField("Date of death", required=True, description="For example, 27 3 2026")
    version = version_field()
    submit = SubmitField("Record death", widget=GovSubmitInput())


class EndAlertForm(FlaskForm):
    submit = SubmitField("End alert", widget=GovSubmitInput())
