"""A rerun's revision is the one of the rows it read: a payment another connection commits
during the run is left to the next rerun. Apart from tests/daily/test_rerun.py because it
commits, which a module sharing a book in one transaction cannot (tests/sharing.py)."""

from __future__ import annotations

import os
import threading
from datetime import date
from typing import Any

import polars as pl
import pytest
from django.db import connection

from arrears.daily import services
from arrears.daily.services import day_run
from arrears.ledger import models
from arrears.ledger import services as ledger
from tests.daily.test_rerun import AS_OF, _any_share, stored  # noqa: F401 (autouse fixture)
from tests.ledger import books

needs_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="needs a second connection committing during the run (SQLite's in-memory test "
    "database is one connection); run with DATABASE_URL=postgresql://…",
)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_payment_committed_during_a_run_is_left_to_the_next_rerun(monkeypatch):
    """The revision stored with a state is the one of the rows it was computed from: a payment
    committed after the run's read began is neither in its figures nor in its revision, so the
    next rerun recomputes that loan and ends equal to a full run."""
    book = books.concession_book(loans=16)
    day_run(as_of=AS_OF)
    loan = book[13]
    read = services.read_revisions

    def pay_meanwhile() -> None:
        try:
            ledger.record_payment(
                loan=models.Loan.objects.get(pk=loan.pk),
                ref="DURING",
                value_date=date(2026, 5, 1),
                amount_minor=50_000,
                currency="CNY",
            )
        finally:
            connection.close()

    def racing(loans: Any) -> pl.DataFrame:
        revisions = read(loans)  # the run's snapshot is taken: now another connection pays
        thread = threading.Thread(target=pay_meanwhile)
        thread.start()
        thread.join(timeout=60)
        return revisions

    monkeypatch.setattr(services, "read_revisions", racing)
    rerun = day_run(as_of=AS_OF, full=True)  # a full run: every loan read after the payment
    monkeypatch.setattr(services, "read_revisions", read)
    assert models.Payment.objects.filter(ref="DURING").exists()
    assert rerun.recomputed is None
    rows = stored()
    assert day_run(as_of=AS_OF).recomputed == 1  # the paid loan, and only it
    assert stored() != rows
    after = stored()
    assert day_run(as_of=AS_OF, full=True).recomputed is None
    assert stored() == after
