"""Turning stored codes into words for templates (timeline details, ages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from casework.clock import london_today, to_london
from casework.people.codes import (
    ClosureReason,
    FamilyRole,
    HousingStatus,
    TimelineKind,
    information,
)
from casework.treatment.models import LABELS, DischargeReason, Modality, SubstanceGroup

FIELD_LABELS = {
    "given_name": "given name",
    "family_name": "family name",
    "known_as": "known as",
    "aliases": "other names",
    "sex": "sex",
    "date_of_birth": "date of birth",
    "nhs_number": "NHS number",
    "pnc_id": "PNC ID",
    "local_id": "local ID",
    "phone": "phone",
    "email": "email",
    "address": "address",
    "postcode": "postcode",
}


def _label(enum: Any, code: str) -> str:
    try:
        return str(enum(code).label)
    except ValueError:
        return code


def alert_label(code: str) -> str:
    kind = information().alerts.get(code)
    return kind.label if kind else code


def family_role_label(code: str) -> str:
    return _label(FamilyRole, code)


def closure_label(code: str) -> str:
    return _label(ClosureReason, code)


def housing_label(code: str) -> str:
    return _label(HousingStatus, code)


def field_labels(codes: str) -> str:
    return ", ".join(FIELD_LABELS.get(code, code) for code in codes.split(",") if code)


def need_changes(changes: str) -> str:
    needs = information().needs
    added = [needs[c[1:]].label for c in changes.split(",") if c.startswith("+") and c[1:] in needs]
    ended = [needs[c[1:]].label for c in changes.split(",") if c.startswith("-") and c[1:] in needs]
    parts = []
    if added:
        parts.append("Added: " + ", ".join(added))
    if ended:
        parts.append("Removed: " + ", ".join(ended))
    return ". ".join(parts)


def age(born: date) -> int:
    today = london_today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass(frozen=True)
class TimelineLine:
    """One timeline entry as the page shows it: plain strings, worked out once in Python
    (a timeline page shows fifty; Jinja is slower at this than Python)."""

    title: str
    contact_id: Any
    byline: str
    when_iso: str
    when_text: str
    lines: list[str]
    note: str
    small: list[str]


def _contact_lines(item: Any) -> tuple[str, list[str], list[str]]:
    parts = [item.contact_outcome.label] if item.contact_outcome else []
    if item.place:
        parts.append(item.place)
    if item.duration_minutes:
        parts.append(f"{item.duration_minutes} min")
    if item.worker_name and item.worker_name != item.actor_name:
        parts.append(f"with {item.worker_name}")
    small = []
    if item.note and item.agency_only:
        small.append("My agency only")
    if item.note and item.note_revision > 1:
        small.append(f"Note revised (version {item.note_revision})")
    title = item.contact_kind.label if item.contact_kind else item.kind.label
    return title, [" · ".join(parts)], small


def _event_lines(details: dict[str, str]) -> list[str]:
    lead = ", lead professional" if details.get("lead") == "yes" else ""
    describe = (
        ("alert", alert_label),
        ("role", lambda code: family_role_label(code) + lead),
        ("reason", lambda code: "Reason: " + closure_label(code)),
        ("fields", lambda codes: "Changed: " + field_labels(codes)),
        ("to", lambda code: "Now: " + housing_label(code)),
        ("changes", need_changes),
    )
    return [words(details[key]) for key, words in describe if details.get(key)]


_TREATMENT_TITLES = {"started": "Treatment started", "ended": "Treatment ended"}


def _treatment_lines(details: dict[str, str]) -> tuple[str, list[str]]:
    """A treatment episode's entry: its codes (``casework.treatment``) as words."""

    def label(kind: Any, code: str | None) -> str:
        try:
            return LABELS[kind(code)] if code else ""
        except ValueError:
            return code or ""

    what = [
        label(SubstanceGroup, details.get("group")),
        label(Modality, details.get("modality")),
    ]
    lines = [" · ".join(part for part in what if part)]
    if details.get("discharge"):
        lines.append("Discharge: " + label(DischargeReason, details["discharge"]))
    title = _TREATMENT_TITLES.get(details.get("action", ""), TimelineKind.TREATMENT.label)
    return title, lines


def timeline_line(item: Any) -> TimelineLine:
    """Describe a ``casework.people.queries.TimelineItem``."""
    if item.kind is TimelineKind.CONTACT:
        title, lines, small = _contact_lines(item)
    elif item.kind is TimelineKind.TREATMENT:
        (title, lines), small = _treatment_lines(item.details), []
        if item.agency_name != (item.actor_agency_name or item.agency_name):
            lines.insert(0, item.agency_name)
    else:
        title, lines, small = item.kind.label, _event_lines(item.details), []
        if item.agency_name != (item.actor_agency_name or item.agency_name):
            lines.insert(0, item.agency_name)  # the agency the event is about
    when = to_london(item.occurred_at)
    return TimelineLine(
        title=title,
        contact_id=item.contact_id if item.kind is TimelineKind.CONTACT else None,
        byline=f"by {item.actor_name}, {item.actor_agency_name or item.agency_name}",
        when_iso=item.occurred_at.isoformat(),
        when_text=when.strftime("%-d %B %Y at %-I:%M%p").replace("AM", "am").replace("PM", "pm"),
        lines=[line for line in lines if line],
        note=item.note,
        small=small,
    )


TEMPLATE_GLOBALS = {
    "alert_label": alert_label,
    "family_role_label": family_role_label,
    "closure_label": closure_label,
    "housing_label": housing_label,
    "field_labels": field_labels,
    "need_changes": need_changes,
    "age": age,
    "timeline_line": timeline_line,
}
