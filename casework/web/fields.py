"""Form fields and validators shared by every blueprint's forms."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import Field, Form, IntegerField
from wtforms.form import BaseForm
from wtforms.utils import unset_value
from wtforms.validators import InputRequired, StopValidation
from wtforms.widgets import HiddenInput


class InChoices:
    """The value (or, for a multiple select, every value) is one of the field's choices.

    Used instead of WTForms' own choice check, whose message ("Not a valid choice") is not in
    GOV.UK style and comes before the field's "Select ..." message.
    """

    def __init__(self, message: str, *, optional: bool = False) -> None:
        self.message = message
        self.optional = optional

    def __call__(self, form: Form, field: Field) -> None:
        allowed = {str(choice.value) for choice in field.iter_choices() if choice.value != ""}  # type: ignore[attr-defined]
        data = field.data if isinstance(field.data, list) else [field.data]
        chosen = [str(value) for value in data if value not in (None, "")]
        if not chosen:
            if self.optional:
                return
            raise StopValidation(self.message)
        if any(value not in allowed for value in chosen):
            raise StopValidation(self.message)


def strip(value: str | None) -> str | None:
    """Leading and trailing spaces are never meant (a pasted email address often has them)."""
    return value.strip() if isinstance(value, str) else value


def version_field() -> IntegerField:
    """The record's version when the form was opened (optimistic locking)."""
    return IntegerField(
        widget=HiddenInput(),
        validators=[InputRequired("The form is missing its version. Reload the page")],
    )


class GovDateField(Field):
    """A date typed as day, month and year boxes (the GOV.UK date input), with errors that say
    which part is missing or that the date is not real, in GOV.UK style."""

    widget = GovDateInput()

    def __init__(
        self, label: str = "", validators: Any = None, *, required: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.required = required
        self.data: date | None = None
        self._problem: str | None = None

    def _value(self) -> str:
        return self.data.strftime("%d %m %Y") if self.data else ""

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        super().process(formdata, data, extra_filters)
        # The GOV.UK widget unpacks exactly three boxes: none sent means nothing typed.
        if self.raw_data is not None and len(self.raw_data) != 3:
            self.raw_data = None if not self.raw_data else [*self.raw_data, "", ""][:3]

    def process_formdata(self, valuelist: list[Any]) -> None:
        self._problem = None
        parts = [str(value).strip() for value in valuelist[:3]]
        while len(parts) < 3:
            parts.append("")
        if not any(parts):
            self.data = None
            return
        day, month, year = parts
        what = self.label.text
        missing = [
            name for name, value in (("day", day), ("month", month), ("year", year)) if not value
        ]
        if missing:
            self._problem = f"{what} must include a {' and a '.join(missing)}"
            return
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            self._problem = f"{what} must be a real date, with a 4-digit year"
            return
        try:
            self.data = date(int(year), int(month), int(day))
        except ValueError:
            self._problem = f"{what} must be a real date"

    def pre_validate(self, form: BaseForm) -> None:
        if self._problem:
            raise StopValidation(self._problem)
        if self.required and self.data is None:
            raise StopValidation(f"Enter {self.label.text.lower()}")


def parse_time(value: str) -> time | None:
    """'9:05', '09.05', '9:05pm', '21:05' -> a time; None when it is not a time of day."""
    text = value.strip().lower().replace(".", ":").replace(" ", "")
    suffix = ""
    if text.endswith(("am", "pm")):
        text, suffix = text[:-2], text[-2:]
    hours, _, minutes = text.partition(":")
    if not hours.isdigit() or (minutes and not minutes.isdigit()):
        return None
    hour, minute = int(hours), int(minutes or 0)
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)
