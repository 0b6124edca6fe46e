"""Pages of rights (issue 9)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("rights", __name__)
