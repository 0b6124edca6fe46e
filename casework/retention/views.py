"""Pages of retention (issue 9)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("retention", __name__)
