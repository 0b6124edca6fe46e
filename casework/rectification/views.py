"""Pages of rectification (issue 9)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("rectification", __name__)
