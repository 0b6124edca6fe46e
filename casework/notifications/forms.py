"""The notifications page's buttons."""

from __future__ import annotations

from flask_wtf import FlaskForm


class MarkReadForm(FlaskForm):
    """Open or mark notifications read: no fields, the CSRF token only."""


class RetryForm(FlaskForm):
    """Send a failed outside message again: the CSRF token only (the id is in the path)."""
