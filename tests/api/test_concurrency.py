"""Concurrent replays on PostgreSQL: the unique constraint, not a check-then-insert, decides.

Eight threads post the same payment at once (and eight more the same reference with other
content); each has its own connection and transaction, so on PostgreSQL the losers' inserts
wait on the winner's row and then read its answer. SQLite serialises writers, so the race this
guards against cannot happen there and the test is skipped.
"""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from arrears.api import access
from arrears.collections.models import Case
from arrears.ledger.models import Payment
from tests import factories

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a real write race needs PostgreSQL"
)


def _race(
    key: str, bodies: list[dict[str, Any]], path: str = "/api/v1/payments"
) -> list[tuple[int, Any]]:
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, Any]] = [(0, None)] * len(bodies)

    def run(n: int) -> None:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ACCEPT_LANGUAGE="en")
        try:
            barrier.wait(timeout=30)
            response = client.post(path, json.dumps(bodies[n]), content_type="application/json")
            results[n] = (response.status_code, response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_record_one_payment_and_conflicts_are_409() -> None:
    product = factories.product()
    borrower = factories.borrower("B1")
    factories.loan("L1", borrower, product, start=date(2026, 6, 15))
    Case.objects.create(borrower=borrower, currency="CNY", opened_on=date(2026, 8, 1))
    key = access.create_token(access.integration("core"), ["payments:write"], rate_limit=1000)
    body = {
        "reference": "RACE-1",
        "loan": "L1",
        "value_date": "2026-11-20",
        "amount_minor": 50_000,
        "currency": "CNY",
    }
    same = _race(key, [body] * 8)
    assert {status for status, _ in same} == {201}
    assert len({json.dumps(answer, sort_keys=True) for _, answer in same}) == 1
    assert Payment.objects.filter(ref="RACE-1").count() == 1

    mixed = _race(
        key, [{**body, "reference": "RACE-2", "amount_minor": 1000 + n} for n in range(8)]
    )
    statuses = sorted(status for status, _ in mixed)
    assert statuses == [201] + [409] * 7
    assert {a["error"]["code"] for s, a in mixed if s == 409} == {"api-idempotency-conflict"}
    assert Payment.objects.filter(ref="RACE-2").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_rate_limit_holds_under_concurrent_requests() -> None:
    """Twelve requests at once against a limit of five: exactly five get through."""
    key = access.create_token(access.integration("core"), ["payments:write"], rate_limit=5)
    answers = _race(key, [{}] * 12)  # an empty body: 422 once past the key and its limit
    statuses = sorted(status for status, _ in answers)
    assert statuses == [422] * 5 + [429] * 7
