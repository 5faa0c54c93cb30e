"""Reactions to ledger changes: a payment moves the borrower's open case at once."""

from __future__ import annotations

from typing import Any

from arrears.collections.models import Case
from arrears.ledger.models import Payment


def on_payment_changed(sender: Any, payment: Payment, change: str, **_: Any) -> None:
    """Re-evaluate the borrower's open case (kept promise, cure) on the workflow's date."""
    # imported here: this module is connected at start-up, and the workflow brings Polars,
    # which a command or request that records no payment never needs
    from arrears.collections.workflow import business_date, reevaluate

    borrower_id = payment.loan.borrower_id
    if not Case.objects.filter(borrower_id=borrower_id, closed_on__isnull=True).exists():
        return
    day = business_date()
    if payment.value_date <= day:
        reevaluate(borrower_id, day)
