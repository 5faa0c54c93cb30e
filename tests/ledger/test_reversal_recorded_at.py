"""A reversal records when it was recorded (``reversed_at``), on every path that reverses, and
the migration that introduced the column takes it from the audit chain where it can."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.apps import apps

from arrears.ledger import services
from arrears.ledger.models import Payment
from tests import factories

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("arrears.ledger.migrations.0006_reversal_recorded_at")
PAID = datetime(2026, 11, 9, 2, tzinfo=UTC)
REVERSED = datetime(2026, 12, 2, 3, tzinfo=UTC)


def a_reversed_payment() -> Payment:
    loan = factories.loan("L-1", factories.borrower("B-1"), factories.product())
    with time_machine.travel(PAID, tick=False):
        payment = services.record_payment(
            loan=loan, ref="P-1", value_date=date(2026, 11, 9), amount_minor=10_000, currency="CNY"
        )
    with time_machine.travel(REVERSED, tick=False):
        return services.reverse_payment(
            payment=payment, reversed_on=date(2026, 11, 20), reversal_ref="R-1", reason="bounced"
        )


def test_reversing_a_payment_records_the_instant() -> None:
    assert a_reversed_payment().reversed_at == REVERSED
    assert Payment.objects.get(ref="P-1").reversed_at == REVERSED


def test_the_backfill_takes_the_instant_from_the_audit_chain(settings: Any) -> None:
    settings.ARREARS_AUDIT = True
    a_reversed_payment()
    Payment.objects.update(reversed_at=None)
    MIGRATION.backfill(apps, None)
    assert Payment.objects.get(ref="P-1").reversed_at == REVERSED


def test_a_reversal_the_chain_never_saw_stays_without_an_instant(settings: Any) -> None:
    settings.ARREARS_AUDIT = False
    a_reversed_payment()
    Payment.objects.update(reversed_at=None)
    MIGRATION.backfill(apps, None)
    assert Payment.objects.get(ref="P-1").reversed_at is None
