"""``GET /healthz``: a real database round trip, for load balancers and monitoring."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from casework.access.rules import PUBLIC, access
from casework.web import context

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@access(PUBLIC)
def healthz() -> tuple[Response, int]:
    try:
        with context.database().reading() as db:
            db.execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        return jsonify({"status": "unavailable", "reason": "database unreachable"}), 503
    return jsonify({"status": "ok"}), 200


# Load balancers probe the app over plain HTTP inside the network: no HTTPS redirect here.
healthz.talisman_view_options = {"force_https": False}  # type: ignore[attr-defined]
