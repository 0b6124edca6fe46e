"""Forms for consent, other lawful bases, withdrawal, emergency access and their review."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired

from casework.access.categories import Category
from casework.agencies.models import AgencyKind
from casework.consent.models import BasisKind, ConsentMethod, EmergencyReason
from casework.consent.rules import (
    EMERGENCY_REASON_LABELS,
    KIND_LABELS,
    METHOD_LABELS,
    OTHER_BASES,
)
from casework.consent.services import Recipient
from casework.web.fields import GovDateField, InChoices, strip, version_field

CATEGORY_CHOICES = {category.value: category.label for category in Category}


def recipient_choices(agencies: Iterable[tuple[uuid.UUID, str]]) -> dict[str, str]:
    """One list: each agency by name, then every agency of each kind."""
    choices = {"": "Select an agency"}
    choices.update({f"agency:{agency_id}": name for agency_id, name in agencies})
    choices.update(
        {f"kind:{kind.value}": f"Every agency of the kind: {kind.label}" for kind in AgencyKind}
    )
    return choices


def parse_recipient(value: str | None) -> Recipient:
    """``agency:<id>`` or ``kind:<kind>``; anything else names nobody (the service refuses)."""
    prefix, _, rest = (value or "").partition(":")
    try:
        if prefix == "agency":
            return Recipient(agency_id=uuid.UUID(rest))
        if prefix == "kind":
            return Recipient(agency_kind=AgencyKind(rest))
    except ValueError:
        pass
    return Recipient()


def recipient_value(recipient: Recipient) -> str:
    if recipient.agency_id is not None:
        return f"agency:{recipient.agency_id}"
    if recipient.agency_kind is not None:
        return f"kind:{recipient.agency_kind.value}"
    return ""


def _share_with() -> SelectField:
    return SelectField(
        "Share with",
        description="A named agency, or every agency of a kind (for example every housing "
        "provider)",
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select the agency, or the kind of agency, to share with")],
    )


def _categories() -> SelectMultipleField:
    return SelectMultipleField(
        "What information may be shared?",
        description="Select all that apply. What any other agency records in these categories "
        "will be shared. Case notes are the text of notes: they show on contacts whose kind "
        "of information is shared too.",
        choices=CATEGORY_CHOICES,
        widget=GovCheckboxesInput(),
        validate_choice=False,
        validators=[InChoices("Select at least one kind of information")],
    )


class ConsentForm(FlaskForm):
    share_with = _share_with()
    categories = _categories()
    purpose = TextAreaField(
        "What is the information shared for?",
        description="For example, to coordinate support while they are in crisis",
        widget=GovTextArea(),
        filters=[strip],
        validators=[DataRequired("Enter the purpose")],
    )
    given_on = GovDateField(
        "Date consent was given", required=True, description="For example, 27 3 2026"
    )
    method = RadioField(
        "How was consent given?",
        choices={method.value: METHOD_LABELS[method] for method in ConsentMethod},
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select how consent was given")],
    )
    form_reference = StringField(
        "Reference of the signed form",
        description="Needed when consent was given in writing, for example NRS-CF-2291",
        widget=GovTextInput(),
        filters=[strip],
    )
    review_on = GovDateField(
        "Review date",
        required=True,
        description="When to check the consent with the person again. Sharing stops after "
        "this date until it is renewed.",
    )
    submit = SubmitField("Record consent", widget=GovSubmitInput())


class CorrectConsentForm(ConsentForm):
    version = version_field()
    submit = SubmitField("Save as a new record", widget=GovSubmitInput())


class BasisForm(FlaskForm):
    kind = RadioField(
        "Which lawful basis?",
        choices={kind.value: KIND_LABELS[kind] for kind in OTHER_BASES},
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select the lawful basis")],
    )
    share_with = _share_with()
    categories = _categories()
    justification = TextAreaField(
        "Why is sharing without consent necessary?",
        description="Information governance will review this. Do not include more detail "
        "about the person than the justification needs.",
        widget=GovTextArea(),
        filters=[strip],
        validators=[DataRequired("Enter the justification")],
    )
    ends_on = GovDateField("End date", required=True, description="At most 30 days from today")
    submit = SubmitField("Record the lawful basis", widget=GovSubmitInput())


class WithdrawForm(FlaskForm):
    withdrawn_on = GovDateField("Date", required=True, description="For example, 27 3 2026")
    reason = TextAreaField("Reason", widget=GovTextArea(), filters=[strip])
    version = version_field()
    submit = SubmitField("Withdraw consent", widget=GovSubmitInput())


class EmergencyForm(FlaskForm):
    reason = RadioField(
        "What kind of emergency is it?",
        choices={reason.value: EMERGENCY_REASON_LABELS[reason] for reason in EmergencyReason},
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select the kind of emergency")],
    )
    detail = TextAreaField(
        "What is happening, and why do you need the record now?",
        widget=GovTextArea(),
        filters=[strip],
        validators=[DataRequired("Enter what the emergency is")],
    )
    submit = SubmitField("Open the record in an emergency", widget=GovSubmitInput())


class EndEmergencyForm(FlaskForm):
    submit = SubmitField("End emergency access", widget=GovSubmitInput())


class ReviewBasisForm(FlaskForm):
    decision = RadioField(
        "Decision",
        choices={
            "approve": "Approve: the basis is justified",
            "reject": "Reject: stop the sharing now",
        },
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select whether the basis is approved")],
    )
    note = TextAreaField(
        "Notes",
        description="Needed when you reject it: the recording worker will see this",
        widget=GovTextArea(),
        filters=[strip],
    )
    version = version_field()
    submit = SubmitField("Save the review", widget=GovSubmitInput())


class ReviewEmergencyForm(FlaskForm):
    decision = RadioField(
        "Was the emergency access appropriate?",
        choices={"appropriate": "Yes, it was appropriate", "concern": "No, there is a concern"},
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InChoices("Select whether the access was appropriate")],
    )
    note = TextAreaField(
        "Notes",
        description="Needed when there is a concern",
        widget=GovTextArea(),
        filters=[strip],
    )
    version = version_field()
    submit = SubmitField("Save the review", widget=GovSubmitInput())


def chosen_categories(values: Iterable[str] | None) -> frozenset[Category]:
    found = set()
    for value in values or ():
        try:
            found.add(Category(value))
        except ValueError:
            continue
    return frozenset(found)


def basis_kind(value: str | None) -> BasisKind | None:
    try:
        return BasisKind(value or "")
    except ValueError:
        return None


def method_of(value: str | None) -> ConsentMethod | None:
    try:
        return ConsentMethod(value or "")
    except ValueError:
        return None


def reason_of(value: str | None) -> EmergencyReason | None:
    try:
        return EmergencyReason(value or "")
    except ValueError:
        return None
