"""Request handling shared by the API views: idempotent POSTs and errors as problem details.

Kept apart from ``views.py`` because it handles the database's unique-constraint race
(``IntegrityError``), which views may not import.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from casework.api import problems, queries, services
from casework.api.auth import api_principal
from casework.api.problems import problem
from casework.db import StaleVersion
from casework.people.queries import NotFoundError
from casework.people.services import NotAllowed, PersonError
from casework.security.vault import KeyMissing
from casework.web import context
from casework.web.audit import audit_refusal

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

REPLAYED_HEADER = "Idempotent-Replayed"

#: The services' field names (for the pages' forms) as the API's request fields.
PERSON_FIELDS = {
    "to_agency": "to_agency_id",
    "person": "person_id",
    "date_of_birth": "person.date_of_birth",
}


def _replay(row: Any, fingerprint: str) -> tuple[dict[str, Any], int, dict[str, str]] | Response:
    if row.request_hash != fingerprint:
        return problem(
            422,
            type_=problems.IDEMPOTENCY_MISMATCH,
            title="Idempotency-Key already used",
            detail="This Idempotency-Key was used with a different request. Use a new key "
            "for a new request.",
            errors={"Idempotency-Key": "Already used with a different request"},
        )
    return dict(row.response or {}), int(row.status_code or 200), {REPLAYED_HEADER: "true"}


def idempotent(view: F) -> F:
    """Honour an ``Idempotency-Key`` header (put it innermost, under the response decorator).

    The key is claimed in the request's own transaction before the work is done, and the
    response is stored beside it before the commit: a retry after a lost response, or a
    concurrent duplicate, replays the first response and books nothing. A request that fails
    (4xx) rolls back with its key, so it can be retried with the same key."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = kwargs.pop("idempotency_key", None)
        principal = api_principal()
        if not key or principal is None:
            return view(*args, **kwargs)
        fingerprint = services.request_fingerprint(
            request.method, request.path, request.get_data(cache=True)
        )
        db = context.db()
        found = queries.find_idempotency_key(db, principal.token_id, key)
        if found is not None:
            return _replay(found, fingerprint)
        try:
            row_id = services.claim_idempotency_key(
                db, token_id=principal.token_id, key=key, fingerprint=fingerprint
            )
        except IntegrityError:
            # A concurrent request with the same key committed first: replay it.
            db.rollback()
            found = queries.find_idempotency_key(db, principal.token_id, key)
            if found is None:  # pragma: no cover - the constraint said it exists
                raise
            return _replay(found, fingerprint)
        result = view(*args, **kwargs)
        if isinstance(result, Response):
            return result  # a refusal: rolled back with its key, so a retry may succeed
        body, status = result
        services.store_idempotent_response(db, row_id, status_code=status, body=body)
        return body, status

    return wrapper  # type: ignore[return-value]


def _refused(status: int, reason: str, **kw: Any) -> Response:
    audit_refusal(reason)
    return problem(status, **kw)


def register_problem_handlers(bp: Blueprint) -> None:
    """Every error an API view can raise, as problem details (never an HTML page, never 500
    for bad input). Refusals of what the token may not see or do are audited."""

    @bp.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        if status == 422 and messages is not None:
            return problem(422, errors=problems.flatten_messages(messages))
        if status == 400 and messages is not None:
            return problem(400, errors=problems.flatten_messages(messages))
        if status in (403, 404):
            return _refused(status, "not_found" if status == 404 else "not_allowed")
        return problem(status)

    @bp.errorhandler(NotFoundError)
    @bp.errorhandler(LookupError)
    @bp.errorhandler(KeyMissing)
    def _not_found(error: Exception) -> Response:
        if isinstance(error, KeyError | IndexError):
            # A bug, not a missing record: never dress it up as a 404.
            log.error("unhandled %s on %s", type(error).__name__, request.endpoint)
            return problem(500)
        return _refused(404, "not_found")

    @bp.errorhandler(NotAllowed)
    def _not_allowed(error: NotAllowed) -> Response:
        return _refused(403, "not_allowed", detail=str(error) or None)

    @bp.errorhandler(PersonError)
    def _person(error: PersonError) -> Response:
        field = PERSON_FIELDS.get(error.field, f"person.{error.field}")
        return problem(422, errors={field: error.message})

    @bp.errorhandler(StaleVersion)
    def _stale(_error: StaleVersion) -> Response:
        return problem(
            409,
            type_=problems.STALE,
            title="The referral has changed",
            detail="Someone else changed this referral since the version you sent. Read it "
            "again and decide whether your change still applies.",
        )


def error_handler(bp: Blueprint, exception: type[Exception]) -> Callable[[F], F]:
    """Register another handler (the pathway services' refusals)."""

    def decorate(handler: F) -> F:
        bp.register_error_handler(exception, handler)
        return handler

    return decorate
