"""The notifications page's buttons."""

from __future__ import annotations

from flask_wtf import FlaskForm


class MarkReadForm(FlaskForm):
    """Open or mark notifications read: no fields, the CSRF token only."""
