"""Schemathesis against the live OpenAPI document: for every operation, valid and invalid input
generated from the document, sent without a token and with a write token. No answer may be a server
error, and every answer (status, content type, headers, body) must be one the document describes.

It runs on both engines (PostgreSQL refuses text that SQLite accepts). The number of examples per
operation is bounded (MATCHER_FUZZ_EXAMPLES, default 25) to keep `make
test` short; raise it for a deeper run.
"""

from __future__ import annotations

import os

import hypothesis.strategies as st
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from matcher.partners.examples import load_examples
from tests.test_api import _token

EXAMPLES = int(os.environ.get("MATCHER_FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(app: Flask) -> None:
    app.config["MATCHER_API_LIMIT"] = "100000 per minute"
    with app.app_context():
        load_examples()
    headers = [{}, {"Authorization": f"Bearer {_token(app, 'write', '100000 per minute')}"}]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:
        cases = st.one_of(operation.as_strategy(mode) for mode in GenerationMode)

        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=cases, auth=st.sampled_from(headers))
        def call(case: schemathesis.Case, auth: dict[str, str]) -> None:
            case.call_and_validate(headers=auth, checks=CHECKS)

        try:
            call()
        except Exception as failure:  # noqa: BLE001 - every failing operation is reported, not only the first
            found = getattr(failure, "exceptions", [failure])
            failures += [f"{operation.label}: {type(each).__name__}: {each}"[:3000] for each in found]
    assert not failures, "\n\n".join(failures)
