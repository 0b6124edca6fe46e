"""Pages of erasure (issue 9)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("erasure", __name__)
