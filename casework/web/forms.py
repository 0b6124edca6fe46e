"""Form helpers shared by every blueprint's views."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm

from casework.web.audit import audit_refusal, person_in_url


def show_error(form: FlaskForm, error: Exception) -> None:
    """Put a service's refusal on the form field it names (else on the form's button)."""
    field_name = getattr(error, "field", None)
    message = getattr(error, "message", None)
    if not isinstance(field_name, str) or not isinstance(message, str):
        raise error
    for name in (field_name, "confirm", "submit"):
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [message]
            audit_refusal("refused", person_id=person_in_url(), details={"fields": [name]})
            return
    raise error


def initial_data(**data: Any) -> dict[str, Any]:
    """Initial form data, for GET only: on POST only what was sent counts (a missing
    ``version`` must fail, never fall back to the current one)."""
    return {"data": data} if request.method == "GET" else {}


def submitted(form: FlaskForm) -> bool:
    """``validate_on_submit``, and a refused submission is audited (the names of the fields
    in error, never what was typed), as DECISIONS §3 asks of every refusal."""
    if form.validate_on_submit():
        return True
    if request.method == "POST" and form.errors:
        audit_refusal(
            "invalid_form", person_id=person_in_url(), details={"fields": sorted(form.errors)}
        )
    return False
