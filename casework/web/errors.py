"""Error pages with a plain explanation, and JSON errors for machine endpoints."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

TITLES = {
    400: "There is a problem with your request",
    403: "You do not have permission to see this page",
    404: "Page not found",
    405: "That action is not available here",
    409: "Someone else changed this record",
    413: "What you sent is too large",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/healthz")) or (
        request.accept_mimetypes.best == "application/json"
    )


def render_error(status: int, *, reason: str | None = None) -> Response:
    if request.path.startswith("/api/"):
        from casework.api.problems import problem

        return problem(status)
    if _wants_json():
        response = jsonify({"status": status, "error": TITLES.get(status, "Error")})
        response.status_code = status
        return response
    template = f"errors/{status}.html" if status in (403, 404, 409, 500) else "errors/generic.html"
    body = render_template(
        template, status=status, title=TITLES.get(status, "Error"), reason=reason
    )
    return make_response(body, status)


def _http_error(error: HTTPException) -> Response:
    return render_error(error.code or 500)


def _csrf_error(error: CSRFError) -> Response:
    log.info("CSRF check failed on %s: %s", request.endpoint, error.description)
    return render_error(
        400,
        reason="The form was not sent from this page or it has expired. "
        "Go back, reload the page and try again. Nothing was saved.",
    )


def _server_error(error: Exception) -> Response:
    log.error("unhandled error on %s", request.endpoint)
    return render_error(500)


def init_errors(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)


def register_case_errors(blueprint: Blueprint) -> None:
    """How the case-record blueprints answer the policy's and the vault's refusals: a person
    or item the user may not see is a 404 exactly like a missing one; a visible record with a
    refused action is a 403; both are audited (with the person in the URL, if any). A
    ciphertext that fails to decrypt (moved or damaged) is a 500 that says so, logged without
    the value."""
    from casework.people.queries import NotFoundError
    from casework.people.services import NotAllowed
    from casework.security.vault import DecryptionError, KeyMissing
    from casework.web.audit import audit_refusal, person_in_url

    def refused(status: int, reason: str) -> Response:
        audit_refusal(reason, person_id=person_in_url())
        return render_error(status)

    @blueprint.errorhandler(NotFoundError)
    def _not_found(_error: NotFoundError) -> Response:
        return refused(404, "not_found")

    @blueprint.errorhandler(NotAllowed)
    def _not_allowed(_error: NotAllowed) -> Response:
        return refused(403, "not_allowed")

    @blueprint.errorhandler(404)
    def _http_not_found(_error: HTTPException) -> Response:
        return refused(404, "not_found")

    @blueprint.errorhandler(403)
    def _http_forbidden(_error: HTTPException) -> Response:
        return refused(403, "not_allowed")

    @blueprint.errorhandler(KeyMissing)
    def _key_missing(_error: KeyMissing) -> Response:
        log.warning("no data key for a person on %s", request.endpoint)
        return refused(404, "no_key")

    @blueprint.errorhandler(DecryptionError)
    def _undecryptable(_error: DecryptionError) -> Response:
        log.error("a ciphertext failed to decrypt on %s (moved or damaged)", request.endpoint)
        return render_error(
            500,
            reason="Part of this record could not be decrypted: it may have been damaged or "
            "tampered with. The problem has been logged. Nothing was changed.",
        )
