"""Administration of user accounts (admin role). Filled in by the admin pages work."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from casework.access.rules import ADMIN, access

bp = Blueprint("users", __name__, url_prefix="/admin/users")


@bp.route("/")
@access(ADMIN)
def list_users() -> ResponseReturnValue:
    return render_template("users/list_users.html")
