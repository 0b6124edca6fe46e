"""Administration of agencies and teams (admin role). Filled in by the admin pages work."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from casework.access.rules import ADMIN, access

bp = Blueprint("agencies", __name__, url_prefix="/admin/agencies")


@bp.route("/")
@access(ADMIN)
def list_agencies() -> ResponseReturnValue:
    return render_template("agencies/list_agencies.html")
