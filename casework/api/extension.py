"""flask-smorest set up for Casework: the OpenAPI description is generated from the views and
schemas; errors stay Casework's own (problem details on the API, pages elsewhere)."""

from __future__ import annotations

import http
from typing import Any

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import BaseConverter

from casework.api.problems import PROBLEM_JSON
from casework.api.schemas import KEY, ProblemSchema


class KeyConverter(BaseConverter):
    """A pathway key in a URL: a malformed one is a 404 from routing, like a malformed id."""

    regex = "[a-z][a-z0-9_]{0,39}"


class CaseworkApi(Api):  # type: ignore[misc]
    ERROR_SCHEMA = ProblemSchema
    #: Each operation documents the statuses it can return; no catch-all "default".
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        """Casework's own handlers answer errors (``casework.api.http`` on the API)."""

    def _register_responses(self) -> None:
        """One response component per status: problem details as application/problem+json."""
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response: dict[str, Any] = {"description": status.phrase, "schema": ProblemSchema}
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)


def init_api(app: Flask, csrf: CSRFProtect) -> CaseworkApi:
    from casework.api.views import bp, docs_bp

    app.url_map.converters["key"] = KeyConverter
    app.config.update(
        API_TITLE="Casework",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=None,  # served by api_docs.openapi_json, behind a token
        API_SPEC_OPTIONS={
            "info": {
                "description": "Referral pathways over JSON. Authenticate with an API token "
                "(Authorization: Bearer <token>) that an administrator created. Errors are "
                "RFC 9457 problem details.",
            },
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
            "security": [{"bearer": []}],
        },
    )
    api = CaseworkApi(app)
    api.register_converter(
        KeyConverter, lambda _converter: {"type": "string", "pattern": KEY.regex.pattern}
    )
    api.register_blueprint(bp)
    app.register_blueprint(docs_bp)
    # Tokens, not cookies: a browser cannot be tricked into sending one, so no CSRF token.
    csrf.exempt(bp)
    csrf.exempt(docs_bp)
    app.extensions["casework.api"] = api
    return api
