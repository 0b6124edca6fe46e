"""Pages every user may read, signed in or not: accessibility statement, cookies, privacy."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from casework.access.rules import PUBLIC, access

bp = Blueprint("pages", __name__, url_prefix="/help")


@bp.route("/accessibility")
@access(PUBLIC)
def accessibility() -> ResponseReturnValue:
    return render_template("pages/accessibility.html")


@bp.route("/cookies")
@access(PUBLIC)
def cookies() -> ResponseReturnValue:
    return render_template("pages/cookies.html")
