"""Schemathesis against the API's own OpenAPI document: no 5xx, and every answer matches the
schema (status codes documented, bodies and content types as declared).

The document is loaded from the app through WSGI (``/api/v1/openapi.json``, no network, no
server), every operation is called with a key holding every scope on a small book, and the
examples are bounded (a few per operation) so the whole run stays well under a minute.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from arrears.api import access
from tests.api.conftest import Book, key_with

#: Examples per operation (Hypothesis); 17 operations × 12 stays under a minute. A deeper run:
#: ``ARREARS_SCHEMATHESIS_EXAMPLES=200 pytest tests/api/test_schemathesis.py``.
EXAMPLES = int(os.environ.get("ARREARS_SCHEMATHESIS_EXAMPLES") or 12)


@pytest.fixture
def api_schema(book: Book) -> Iterator[Any]:
    # The test's transaction must survive each request: Django's WSGI handler would close the
    # connection at the end of a request (the test client does the same switch).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
        schema.config.generation.update(
            modes=[schemathesis.GenerationMode.POSITIVE], max_examples=EXAMPLES
        )
        yield schema
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_key(book: Book) -> str:
    return key_with(*access.SCOPES, name="fuzz", rate_limit=access.MAX_RATE_LIMIT)


@pytest.mark.slow
def test_every_operation_conforms_to_the_schema(api_schema: Any, fuzz_key: str) -> None:
    """Each operation in turn, Hypothesis drawing its cases (schemathesis's pytest plugin is
    not used: its lazy loader needs pytest internals that pytest 9 removed)."""
    from schemathesis import checks

    headers = {"Authorization": f"Bearer {fuzz_key}", "Accept-Language": "en"}
    tested = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(
                headers=headers,
                checks=[
                    checks.not_a_server_error,
                    checks.status_code_conformance,
                    checks.content_type_conformance,
                    checks.response_schema_conformance,
                ],
            )

        run()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) == 17, tested  # every operation of the document
