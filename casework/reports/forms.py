"""The filters of a report page: a GET form (no CSRF token, nothing changes), so that a
filtered report has a URL to share and Back works. The form only draws the fields: the values
are checked by ``services.check_filters`` against what the viewer may use, and its
``FilterError`` is put on the field it names (:meth:`FilterForm.show`)."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovTextInput
from wtforms import Form, SelectField, StringField

from casework.reports.periods import Preset
from casework.reports.services import FilterChoices
from casework.web.fields import strip

DATE_HINT = "For example, 2026-04-01"


def _date(label: str, name: str) -> StringField:
    return StringField(
        label, name=name, widget=GovTextInput(), filters=[strip], description=DATE_HINT
    )


def _select(label: str, **kwargs: Any) -> SelectField:
    return SelectField(label, choices=[], widget=GovSelect(), validate_choice=False, **kwargs)


class FilterForm(Form):
    preset = _select("Period")
    start = _date("From", "from")
    end = _date("To", "to")
    agency = _select("Agency")
    team = _select("Team")
    worker = _select("Worker")
    pathway = _select("Pathway")
    baseline_start = _date("Baseline from", "baseline_from")
    baseline_end = _date("Baseline to", "baseline_to")
    waiting_days = StringField(
        "Waiting longer than (days)",
        widget=GovTextInput(),
        filters=[strip],
        description="Referrals with no answer after this many days",
    )

    def offer(self, choices: FilterChoices) -> None:
        """The choices the viewer may pick (the checks are the service's)."""
        self.preset.choices = [(preset.value, preset.label) for preset in Preset] + [
            ("", "The dates entered below")
        ]
        everyone = [("", "All")]
        if choices.agency_fixed:
            self.agency.choices = [(str(key), name) for key, name in choices.agencies]
        else:
            self.agency.choices = everyone + [(str(key), name) for key, name in choices.agencies]
        self.team.choices = everyone + [(str(key), name) for key, name in choices.teams]
        self.worker.choices = everyone + [(str(key), name) for key, name in choices.workers]
        if choices.teams_note:
            self.team.description = choices.teams_note
        if choices.workers_note:
            self.worker.description = choices.workers_note
        self.pathway.choices = everyone + list(choices.pathways)

    def field_for(self, name: str) -> Any:
        """The form field a filter's query-string name belongs to."""
        for field in self:
            if field.name == name:
                return field
        return self.preset

    def show(self, name: str, message: str) -> None:
        field = self.field_for(name)
        field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
