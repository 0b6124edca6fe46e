"""Pages of merging (issue 9)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("merging", __name__)
