"""Form helpers shared by every blueprint's views."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm


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
            return
    raise error


def initial_data(**data: Any) -> dict[str, Any]:
    """Initial form data, for GET only: on POST only what was sent counts (a missing
    ``version`` must fail, never fall back to the current one)."""
    return {"data": data} if request.method == "GET" else {}
