"""The import's bulk writes (``importers.writing``): rows written many to a statement on SQLite
(and by ``COPY`` on PostgreSQL) are the rows given, in their order, whatever their number
against the rows a statement holds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from django.db import transaction

from arrears.ledger import models, services
from arrears.ledger.importers import import_file, writing
from tests.ledger.test_import import loan_row, valid_ric, write_csv

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


def test_imported_rows_take_fresh_ids_and_later_rows_come_after_them(
    tmp_path: Path, shared_import_product: int
) -> None:
    """The ids an import reserves are never ones used before (a deleted row's id stays
    unused, as ``AUTOINCREMENT`` and a sequence keep it), and a row created after the import
    gets an id after every id it wrote (the counter moved past them)."""
    gone = services.create_borrower(ref="GONE", name="G", id_type="other", national_id="E9")
    gone_id = gone.pk
    gone.delete()
    path = write_csv(
        tmp_path / "loans.csv",
        [
            loan_row(1),
            loan_row(2),
            loan_row(3, borrower_ref="B1", borrower_name="借款人1", national_id=valid_ric(1)),
        ],
    )
    import_file("loans", path)
    borrowers = dict(models.Borrower.objects.values_list("ref", "id"))
    assert set(borrowers) == {"B1", "B2"}
    assert min(borrowers.values()) > gone_id
    loans = models.Loan.objects.order_by("ref")
    assert [(loan.ref, loan.borrower.ref) for loan in loans] == [
        ("L1", "B1"), ("L2", "B2"), ("L3", "B1")
    ]  # fmt: skip
    assert all(len(loan.instalments) == loan.term for loan in loans)
    assert sorted(models.Phone.objects.values_list("borrower__ref", "number")) == [
        ("B1", "+8613812340001"), ("B1", "+8613812340003"), ("B2", "+8613812340002")
    ]  # fmt: skip
    later = services.create_borrower(ref="LATER", name="L", id_type="other", national_id="E8")
    assert later.pk > max(borrowers.values())
    loan_ids = [loan.pk for loan in loans]
    later_loan = services.create_loan(
        ref="LATER", borrower=later, product=models.Product.objects.get(pk=shared_import_product),
        currency="CNY", principal_minor=100_000, rate_value=Decimal("0.0005"),
        rate_basis="daily", term=3, method="equal-instalment", start_date=date(2026, 1, 15),
    )  # fmt: skip
    assert later_loan.pk > max(loan_ids)


@pytest.mark.parametrize("step", [1, 3])
def test_reserved_ids_are_the_ids_the_sequence_gave(step: int) -> None:
    """The ids reserved for new rows are ids nobody else can be given, whether they came
    contiguous (returned as a range) or not (another session drew meanwhile; made here by a
    sequence that steps by 3): each is fresh, none is repeated, and a row created later comes
    after them."""
    if step != 1:
        if writing.connection.vendor != "postgresql":
            pytest.skip("SQLite's ids come from AUTOINCREMENT, always contiguous")
        with writing.connection.cursor() as cursor:
            cursor.execute(f"ALTER SEQUENCE ledger_borrower_id_seq INCREMENT BY {step}")
    before = services.create_borrower(ref="BEFORE", name="B", id_type="other", national_id="E1")
    ids = writing._reserve_ids(models.Borrower, 5).tolist()
    assert len(set(ids)) == 5
    assert min(ids) > before.pk
    assert [b - a for a, b in pairwise(ids)] == [step] * 4
    later = services.create_borrower(ref="LATER", name="L", id_type="other", national_id="E2")
    if writing.connection.vendor == "postgresql":
        assert later.pk > max(ids)
