"""RFC 9457 problem details: every 4xx and 5xx the API sends is ``application/problem+json``
with ``type``, ``title``, ``status`` and ``detail``, and (422) ``errors`` naming each field."""

from __future__ import annotations

import http
from collections.abc import Mapping
from typing import Any

from flask import Response, json

PROBLEM_JSON = "application/problem+json"

#: Problem types this API defines (relative URIs, resolved against the API's address). Plain
#: HTTP failures use "about:blank", whose title is the status phrase (RFC 9457 §4.2.1).
VALIDATION = "/api/v1/problems/validation"
MALFORMED = "/api/v1/problems/malformed-request"
TOO_LARGE = "/api/v1/problems/too-large"
UNAUTHENTICATED = "/api/v1/problems/unauthenticated"
FORBIDDEN = "/api/v1/problems/forbidden"
NOT_FOUND = "/api/v1/problems/not-found"
CONFLICT = "/api/v1/problems/conflict"
STALE = "/api/v1/problems/stale-version"
TRANSITION_REFUSED = "/api/v1/problems/transition-refused"
IDEMPOTENCY_MISMATCH = "/api/v1/problems/idempotency-key-reused"
POSSIBLE_DUPLICATE = "/api/v1/problems/possible-duplicate"

DETAILS: dict[int, tuple[str, str]] = {
    400: (MALFORMED, "The request could not be read: send a JSON object with the right types."),
    401: (UNAUTHENTICATED, "Send a valid, unexpired API token: Authorization: Bearer <token>."),
    403: (FORBIDDEN, "This token may not do that: it lacks the scope or its account the role."),
    404: (NOT_FOUND, "There is nothing here that this token may see."),
    405: ("about:blank", "This address does not accept that method."),
    409: (CONFLICT, "The record changed, or the request conflicts with its current state."),
    413: (TOO_LARGE, "The request body is larger than the service accepts."),
    415: ("about:blank", "Send the body as application/json."),
    422: (VALIDATION, "Some values were missing or not acceptable: see errors."),
    429: ("about:blank", "Too many requests: wait and try again."),
    500: ("about:blank", "Something went wrong on our side. Nothing was changed."),
    503: ("about:blank", "The service is unavailable. Try again later."),
}


def problem(
    status: int,
    *,
    detail: str | None = None,
    type_: str | None = None,
    title: str | None = None,
    errors: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    known_type, known_detail = DETAILS.get(status, ("about:blank", ""))
    body: dict[str, Any] = {
        "type": type_ or known_type,
        "title": title or http.HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or known_detail or http.HTTPStatus(status).description,
    }
    if errors is not None:
        body["errors"] = dict(errors)
    if extra:
        body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="casework"')
    return response


def flatten_messages(messages: object, prefix: str = "") -> dict[str, str]:
    """webargs/marshmallow messages (nested dicts of lists) as one message per field path:
    ``{"json": {"person": {"date_of_birth": ["Not a valid date."]}}}`` becomes
    ``{"person.date_of_birth": "Not a valid date."}`` (the location is left out)."""
    flat: dict[str, str] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = str(key)
            if not prefix and name in ("json", "query", "headers", "path", "view_args"):
                flat.update(flatten_messages(value, ""))
                continue
            path = f"{prefix}.{name}" if prefix else name
            flat.update(flatten_messages(value, path))
    elif isinstance(messages, list | tuple):
        texts = [m for m in messages if isinstance(m, str)]
        if texts:
            flat[prefix or "body"] = " ".join(texts)
        for index, item in enumerate(m for m in messages if not isinstance(m, str)):
            flat.update(flatten_messages(item, f"{prefix}.{index}" if prefix else str(index)))
    elif messages is not None:
        flat[prefix or "body"] = str(messages)
    return flat
