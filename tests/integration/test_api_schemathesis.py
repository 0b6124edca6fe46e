"""schemathesis against the generated OpenAPI description: at least 2,000 generated requests
(valid and invalid), 0 server errors, and every response's status, content type, headers and
body as the description says."""

from __future__ import annotations

from collections import Counter
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.strategies import SearchStrategy
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from casework.access.roles import Role
from casework.db import Database
from tests.conftest import Builders
from tests.integration.api_support import make_ends, make_token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: Generated requests per operation and mode (6 operations x 2 modes x 180 = 2,160).
EXAMPLES = 180
MINIMUM = 2000


def test_the_api_conforms_to_its_openapi_description(
    app: Flask, build: Builders, database: Database
) -> None:
    ends = make_ends(build)
    person = build.person(ends.custody, "Sam", "Fictional")
    build.referral(person, by=ends.custody, to=ends.assessor)
    custody = make_token(database, ends.custody.id)
    assessor = make_token(database, ends.assessor.id)
    outsider = make_token(database, build.user(Role.WORKER).id)

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=custody.headers)
    sent: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    tokens = [custody.headers, assessor.headers, outsider.headers]

    def run_operation(label: str, strategy: SearchStrategy[Any]) -> None:
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            headers = tokens[sum(sent.values()) % len(tokens)]
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            sent[label] += 1
            statuses[response.status_code] += 1

        run()

    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            run_operation(operation.label, operation.as_strategy(generation_mode=mode))

    total = sum(sent.values())
    assert total >= MINIMUM, (total, sent)
    assert not any(status >= 500 for status in statuses), statuses
    # The run reached real answers, not only refusals.
    assert statuses[200] > 0, statuses
    assert statuses[422] > 0, statuses
