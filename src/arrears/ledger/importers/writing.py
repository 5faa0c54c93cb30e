"""Writing: a plan without errors → rows in the database, in bulk, and an import batch record.

Called inside the transaction :func:`~arrears.ledger.importers.pipeline.import_file` opens, so
a file is applied whole or not at all. It trusts the plan (validation is done); what it does is
write many rows with few statements: borrowers, phones, loans and instalments by ``COPY``
(PostgreSQL) or ``executemany`` (SQLite) of values adapted once, without a model instance per
row (``bulk_create`` compiled one per row and was a fifth of an import's time); payments the
same way (half of a payments import was ``bulk_create``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from itertools import islice
from typing import Any

from django.db import connection
from django.utils import timezone

from arrears.ledger import models
from arrears.ledger.importers import lookups
from arrears.ledger.importers.errors import ImportRejected
from arrears.ledger.importers.reading import Table
from arrears.ledger.importers.records import (
    CONTACT_FIELDS,
    ImportResult,
    LoanPlan,
    PaymentPlan,
    PaymentRow,
)

BULK_BATCH = 1000
INSERT_BATCH = 5000


def apply_loans(plan: LoanPlan) -> ImportResult:
    """Write a plan without errors: new borrowers, phones, loans and their schedules."""
    if plan.errors:
        raise ImportRejected(plan.errors)
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    _insert_rows(
        models.Borrower,
        ("ref", "name", "id_type", "national_id", "time_zone", "locale", "email",
         "postal_address", "created_at"),
        (
            (b.ref, b.name, b.id_type, b.national_id, b.time_zone, b.locale, b.email,
             b.postal_address, now)
            for b in plan.borrowers
        ),
    )  # fmt: skip
    filled = lookups.fetch(models.Borrower.objects.all(), "ref", plan.contacts)
    for borrower in filled:
        for attr, value in plan.contacts[borrower.ref].items():
            setattr(borrower, attr, value)
    models.Borrower.objects.bulk_update(
        filled, [attr for attr, _ in CONTACT_FIELDS], batch_size=BULK_BATCH
    )
    borrower_ids = lookups.ids(
        models.Borrower, [ref for ref, _ in plan.phones] + [row.borrower.ref for row in plan.loans]
    )
    _insert_rows(
        models.Phone,
        ("borrower", "number", "kind", "source", "is_valid", "created_at"),
        (
            (borrower_ids[ref], number, models.Phone.Kind.MOBILE.value,
             models.Phone.Source.APPLICATION.value, True, now)
            for ref, number in plan.phones
        ),
    )  # fmt: skip
    day = ops.adapt_datefield_value
    _insert_rows(
        models.Loan,
        ("ref", "borrower", "product", "currency", "principal_minor", "rate_value",
         "rate_basis", "term", "method", "day_count", "start_date", "created_at", "revision"),
        (
            (row.ref, borrower_ids[row.borrower.ref], row.product.pk, row.currency,
             row.principal_minor, ops.adapt_decimalfield_value(row.rate, 12, 8),
             row.rate_basis.value, row.term, row.method.value, row.day_count.value,
             day(row.start_date), now, 0)
            for row in plan.loans
        ),
    )  # fmt: skip
    loan_ids = lookups.ids(models.Loan, [row.ref for row in plan.loans])
    _insert_rows(
        models.Instalment,
        ("loan", "seq", "due_date", "principal_minor", "interest_minor", "period_start",
         "period_end"),
        (
            (loan_ids[row.ref], i.seq, day(i.due_date), i.principal, i.interest,
             day(i.period_start), day(i.period_end))
            for row in plan.loans
            for i in row.schedule
        ),
    )  # fmt: skip
    result = _record(models.ImportBatch.Kind.LOANS, plan.table, len(plan.loans), plan.skipped)
    return replace(result, contacts_added=len(filled))


def _insert_rows(model: Any, fields: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert rows that need no model logic, fast: ``COPY`` on PostgreSQL, ``executemany``
    elsewhere (SQLite runs in-process, so a statement per row costs no round trip).

    A 10 000-loan file has ~120 000 instalments; building and compiling a model instance for
    each made ``bulk_create`` most of an import's time. Values are adapted by the caller.
    """
    quote = connection.ops.quote_name
    meta = model._meta
    table = quote(meta.db_table)
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    iterator = iter(rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in iterator:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        while batch := list(islice(iterator, INSERT_BATCH)):
            cursor.executemany(sql, batch)


def _record(kind: str, table: Table, applied: int, skipped: int) -> ImportResult:
    batch = models.ImportBatch.objects.create(
        kind=kind,
        file_name=table.file_name,
        sha256=table.sha256,
        row_count=len(table.rows),
        applied_count=applied,
        skipped_count=skipped,
    )
    return ImportResult(kind, table.file_name, len(table.rows), applied, skipped, batch.pk)


def apply_payments(plan: PaymentPlan) -> ImportResult:
    """Write a plan without errors: new payments, then reversals (of stored or new payments)."""
    if plan.errors:
        raise ImportRejected(plan.errors)
    reversal_of = {r.reverses: r for r in plan.reversals}
    reason = f"imported from {plan.table.file_name}"[:200]
    source = plan.table.file_name[:200]  # the columns' length, on both databases
    ops = connection.ops
    day, now = ops.adapt_datefield_value, ops.adapt_datetimefield_value(timezone.now())

    def row_of(row: PaymentRow) -> tuple[Any, ...]:
        reversal = reversal_of.pop(row.ref, None)
        return (
            row.ref, row.loan_id, day(row.value_date), row.amount_minor, row.currency,
            source, day(reversal.reversed_on) if reversal else None,
            reversal.ref if reversal else None, reason if reversal else "", now,
        )  # fmt: skip

    _insert_rows(
        models.Payment,
        ("ref", "loan", "value_date", "amount_minor", "currency", "source", "reversed_on",
         "reversal_ref", "reversal_reason", "created_at"),
        [row_of(row) for row in plan.payments],
    )  # fmt: skip
    targets = lookups.fetch(models.Payment.objects.all(), "ref", reversal_of)
    for payment in targets:
        reversal = reversal_of[payment.ref]
        payment.reversed_on = reversal.reversed_on
        payment.reversal_ref = reversal.ref
        payment.reversal_reason = reason
    models.Payment.objects.bulk_update(
        targets, ["reversed_on", "reversal_ref", "reversal_reason"], batch_size=BULK_BATCH
    )
    applied = len(plan.payments) + len(plan.reversals)
    return _record(models.ImportBatch.Kind.PAYMENTS, plan.table, applied, plan.skipped)
