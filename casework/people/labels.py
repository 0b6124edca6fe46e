"""Turning stored codes into words for templates (timeline details, ages)."""

from __future__ import annotations

from datetime import date
from typing import Any

from casework.clock import london_today
from casework.people.codes import ClosureReason, FamilyRole, HousingStatus, information

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


TEMPLATE_GLOBALS = {
    "alert_label": alert_label,
    "family_role_label": family_role_label,
    "closure_label": closure_label,
    "housing_label": housing_label,
    "field_labels": field_labels,
    "need_changes": need_changes,
    "age": age,
}
