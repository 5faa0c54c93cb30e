"""The import's bulk writes (``importers.writing``): rows written many to a statement on SQLite
(and by ``COPY`` on PostgreSQL) are the rows given, in their order, whatever their number
against the rows a statement holds."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from django.db import transaction

from arrears.ledger import models, services
from arrears.ledger.importers import writing

pytestmark = pytest.mark.django_db

#: Borrowers a SQLite statement holds (9 columns, under the bound-parameter limit).
_PER = writing.rows_per_statement(9)


@pytest.mark.parametrize("count", [1, 2, _PER - 1, _PER, _PER + 1, 2 * _PER + 3])
def test_rows_are_written_as_given_in_their_order(count: int) -> None:
    rows = [
        (f"B{n:05d}", f"name {n}", "other", f"E{n}", None if n % 2 else "Asia/Shanghai",
         "zh-hans", f"b{n}@example.com" if n % 3 else "", "", "2026-01-01 00:00:00")
        for n in range(count)
    ]  # fmt: skip
    fields = ("ref", "name", "id_type", "national_id", "time_zone", "locale", "email",
              "postal_address", "created_at")  # fmt: skip
    with transaction.atomic():
        writing._insert_rows(models.Borrower, fields, iter(rows))
    stored = list(
        models.Borrower.objects.order_by("id").values_list(
            "ref", "name", "id_type", "national_id", "time_zone", "locale", "email"
        )
    )
    assert stored == [row[:7] for row in rows]


def test_a_frame_of_instalments_is_written_with_its_dates_as_django_reads_them() -> None:
    product = services.create_product(
        code="PL", version=1, name="PL", effective_from=date(2026, 1, 1)
    )
    borrower = services.create_borrower(ref="B", name="B", id_type="other", national_id="E1")
    loan = models.Loan.objects.create(
        ref="L",
        borrower=borrower,
        product=product,
        currency="CNY",
        principal_minor=1_000_000,
        rate_value="0.0005",
        rate_basis="daily",
        term=12,
        method="equal-instalment",
        day_count="act/365",
        start_date=date(2026, 1, 1),
    )
    count = 2 * writing.rows_per_statement(7) + 5
    first = date(2026, 1, 31)
    frame = pl.DataFrame(
        {
            "loan": [loan.pk] * count,
            "seq": list(range(1, count + 1)),
            "due_date": [first + timedelta(days=n) for n in range(count)],
            "principal": [1000 + n for n in range(count)],
            "interest": [n for n in range(count)],
            "period_start": [first + timedelta(days=n - 30) for n in range(count)],
            "period_end": [first + timedelta(days=n) for n in range(count)],
        }
    )
    with transaction.atomic():
        writing._insert_rows(
            models.Instalment,
            ("loan", "seq", "due_date", "principal_minor", "interest_minor", "period_start",
             "period_end"),
            frame,
        )  # fmt: skip
    stored = list(
        models.Instalment.objects.order_by("id").values_list(
            "loan_id", "seq", "due_date", "principal_minor", "interest_minor", "period_start",
            "period_end",
        )
    )  # fmt: skip
    assert stored == frame.rows()
