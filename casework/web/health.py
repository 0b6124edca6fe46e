"""``GET /healthz``: a real database round trip, for load balancers and monitoring, and how
long ago the job runner last finished a sweep of due reminders (``null``: never). The status
stays 200 when the runner is late — the web still works — but ``jobs.state`` says "late"
once two sweep intervals have passed, for monitoring to alert on."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from casework.access.rules import PUBLIC, access
from casework.clock import utcnow
from casework.jobs.queries import last_sweep_finished
from casework.web import context

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@access(PUBLIC)
def healthz() -> tuple[Response, int]:
    try:
        with context.database().reading() as db:
            db.execute(text("SELECT 1")).scalar_one()
            finished = last_sweep_finished(db)
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        return jsonify({"status": "unavailable", "reason": "database unreachable"}), 503
    ago = None if finished is None else max(0, int((utcnow() - finished).total_seconds()))
    late_after = 2 * context.settings().jobs_sweep_seconds + 30
    state = "never_run" if ago is None else ("late" if ago > late_after else "ok")
    return jsonify(
        {
            "status": "ok",
            "jobs": {"last_sweep_finished_seconds_ago": ago, "state": state},
        }
    ), 200


# Load balancers probe the app over plain HTTP inside the network: no HTTPS redirect here.
healthz.talisman_view_options = {"force_https": False}  # type: ignore[attr-defined]
