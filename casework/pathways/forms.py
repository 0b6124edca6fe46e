"""Forms for referrals, built from the pathway definitions (a partnership adds a pathway without
code, so no form here names a stage or a field).

The engine checks every value (``casework.pathways.rules.parse_values``) and names the field of
each problem; these forms only turn what the browser sent into the values the engine takes
(choice codes, ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM`` Europe/London, ``yes``/``no``) and put the
engine's messages back on the right field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import Field, RadioField, SelectField, StringField, SubmitField, TextAreaField

from casework.pathways.definitions import FieldDef, FieldKind, TransitionDef
from casework.web.fields import GovDateField, InChoices, parse_time, strip, version_field

YES_NO = {"yes": "Yes", "no": "No"}
#: The time box of a date-and-time field is the field's name with this after it.
TIME_SUFFIX = "_time"
#: Names the form itself uses: a pathway field may not take them.
RESERVED = frozenset({"csrf_token", "version", "submit"})


class TransitionFormBase(FlaskForm):
    version = version_field()

    #: The definition the form was built from (set on each generated class).
    step: TransitionDef

    def values(self) -> tuple[dict[str, object], dict[str, str]]:
        """What to give the engine, and problems found before it (a time that is not a time)."""
        values: dict[str, object] = {}
        problems: dict[str, str] = {}
        for spec in self.step.fields:
            field = self[spec.name]
            if spec.kind is FieldKind.DATE:
                if field.data is not None:
                    values[spec.name] = field.data.isoformat()
            elif spec.kind is FieldKind.DATETIME:
                problem = _datetime_value(spec, field, self[spec.name + TIME_SUFFIX], values)
                if problem:
                    problems[spec.name + TIME_SUFFIX] = problem
            elif field.data not in (None, ""):
                values[spec.name] = field.data
        return values, problems

    def show_problems(self, problems: Mapping[str, str]) -> list[str]:
        """Put each problem on its field (a date-and-time problem on the date boxes unless it
        is about the time). Returns the field names used, for the audit."""
        used = []
        for name, message in problems.items():
            target = name if name in self else None
            if target is None:
                target = "submit"
            field = self[target]
            field.errors = [*list(field.errors or ()), message]
            used.append(target)
        return used


def _datetime_value(
    spec: FieldDef, day_field: Field, time_field: Field, values: dict[str, object]
) -> str | None:
    typed = (time_field.data or "").strip()
    if day_field.data is None and not typed:
        return None
    if not typed:
        return f"Enter the time of {spec.label[0].lower() + spec.label[1:].rstrip('?')}"
    moment = parse_time(typed)
    if moment is None:
        return "Enter a real time, like 9:30am or 14:15"
    if day_field.data is None:
        return None  # the date boxes report their own problem (or the engine: "Enter ...")
    values[spec.name] = f"{day_field.data.isoformat()}T{moment.strftime('%H:%M')}"
    return None


def _field_for(spec: FieldDef) -> Iterable[tuple[str, Field]]:
    hint = spec.hint
    if spec.kind is FieldKind.CHOICE:
        yield (
            spec.name,
            RadioField(
                spec.label,
                description=hint,
                choices=dict(spec.choices),
                widget=GovRadioInput(),
                validate_choice=False,
            ),
        )
    elif spec.kind is FieldKind.YES_NO:
        yield (
            spec.name,
            RadioField(
                spec.label,
                description=hint,
                choices=YES_NO,
                widget=GovRadioInput(),
                validate_choice=False,
            ),
        )
    elif spec.kind is FieldKind.DATE:
        yield spec.name, GovDateField(spec.label, description=hint or "For example, 27 3 2026")
    elif spec.kind is FieldKind.DATETIME:
        yield spec.name, GovDateField(spec.label, description=hint or "For example, 27 3 2026")
        yield (
            spec.name + TIME_SUFFIX,
            StringField(
                "Time",
                description="For example, 9:30am or 14:15",
                filters=[strip],
                widget=GovTextInput(),
            ),
        )
    elif spec.kind is FieldKind.INTEGER:
        yield (
            spec.name,
            StringField(spec.label, description=hint, filters=[strip], widget=GovTextInput()),
        )
    else:
        yield spec.name, TextAreaField(spec.label, description=hint, widget=GovTextArea())


def transition_form(step: TransitionDef, *, submit_label: str | None = None) -> type[Any]:
    """A form class for one transition's fields, its version and a submit button."""
    attributes: dict[str, Any] = {"step": step}
    for spec in step.fields:
        if spec.name in RESERVED:
            raise ValueError(f"a pathway field may not be called {spec.name}")
        attributes.update(dict(_field_for(spec)))
    attributes["submit"] = SubmitField(
        submit_label or step.button or step.label, widget=GovSubmitInput()
    )
    return type("TransitionForm", (TransitionFormBase,), attributes)


class QuickTransitionForm(FlaskForm):
    """A transition without fields: a button with the version (and the CSRF token)."""

    version = version_field()


def referral_form(step: TransitionDef, agencies: Mapping[str, str]) -> type[Any]:
    """Making a referral: the receiving agency, then the starting transition's fields."""
    to_agency = SelectField(  # made first, so it comes first in the error summary
        "Agency to refer to",
        choices={"": "Select an agency", **agencies},
        widget=GovSelect(),
        validate_choice=False,
        validators=[InChoices("Select the agency to refer to")],
    )
    base = transition_form(step, submit_label="Make the referral")
    # A new referral has no version yet.
    return type("ReferralForm", (base,), {"to_agency": to_agency, "version": None})
