"""Writing: a plan without errors → rows in the database, in bulk, and an import batch record.

Called inside the transaction :func:`~arrears.ledger.importers.pipeline.import_file` opens, so
a file is applied whole or not at all. It trusts the plan (validation is done); what it does is
write many rows with few statements: borrowers, phones, loans and their schedules (one row
each, its text built in bulk: :mod:`arrears.ledger.schedules`) by ``COPY``
(PostgreSQL) or statements of many rows each (SQLite) of values adapted once, without a model
instance per row (``bulk_create`` compiled one per row and was a fifth of an import's time);
payments the same way (half of a payments import was ``bulk_create``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from itertools import chain, islice, repeat
from typing import Any

import numpy as np
from django.db import connection
from django.utils import timezone

from arrears.ledger import models, schedules
from arrears.ledger.importers import lookups
from arrears.ledger.importers.errors import ImportRejected
from arrears.ledger.importers.reading import Table
from arrears.ledger.importers.records import (
    CONTACT_FIELDS,
    ImportResult,
    LoanPlan,
    PaymentPlan,
    ReversalRow,
)

BULK_BATCH = 1000
INSERT_BATCH = 5000


def apply_loans(plan: LoanPlan) -> ImportResult:
    """Write a plan without errors: new borrowers, phones, loans and their schedules."""
    if plan.errors:
        raise ImportRejected(sorted(plan.errors, key=lambda e: e.row or 0))
    contacts_added = write_loans(plan)
    result = _record(models.ImportBatch.Kind.LOANS, plan.table, len(plan.loans), plan.skipped)
    return replace(result, contacts_added=contacts_added)


def write_loans(plan: LoanPlan) -> int:
    """Write what a plan (of a file or of one chunk) adds; the number of known borrowers
    whose blank contact details it filled in.

    The rows' values are taken column by column from the plan's fields at the offsets of
    the new borrowers and loans, each distinct rate, date and enum adapted once; the rows are
    zipped from those columns (no record per row, no attribute read per row)."""
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    v = plan.fields
    # the new borrowers' ids reserved up front (as the loans' below): the phones and loans
    # point at them without a lookup of every borrower just written
    new_ids = _reserve_ids(models.Borrower, len(plan.borrowers)).tolist()
    new_refs = _pick(v, "borrower_ref", plan.borrowers)
    _insert_rows(
        models.Borrower,
        ("id", "ref", "name", "id_type", "national_id", "time_zone", "locale", "email",
         "postal_address", "created_at"),
        zip(new_ids, new_refs, *(_pick(v, key, plan.borrowers) for key in (
            "name", "id_type", "national_id", "time_zone", "locale", "email", "postal_address"
        )), repeat(now), strict=False),
    )  # fmt: skip
    filled = lookups.fetch(models.Borrower.objects.all(), "ref", plan.contacts)
    for borrower in filled:
        for attr, value in plan.contacts[borrower.ref].items():
            setattr(borrower, attr, value)
    models.Borrower.objects.bulk_update(
        filled, [attr for attr, _ in CONTACT_FIELDS], batch_size=BULK_BATCH
    )
    borrower_ids = dict(zip(new_refs, new_ids, strict=True))
    loan_borrowers = _pick(v, "borrower_ref", plan.loans)
    stored = {ref for ref, _ in plan.phones} | set(loan_borrowers)
    borrower_ids.update(lookups.ids(models.Borrower, stored.difference(borrower_ids)))
    _insert_rows(
        models.Phone,
        ("borrower", "number", "kind", "source", "is_valid", "created_at"),
        (
            (borrower_ids[ref], number, models.Phone.Kind.MOBILE.value,
             models.Phone.Source.APPLICATION.value, True, now)
            for ref, number in plan.phones
        ),
    )  # fmt: skip
    loans = plan.loans
    loan_fields = ("ref", "borrower", "product", "currency", "principal_minor", "rate_value",
                   "rate_basis", "term", "method", "day_count", "start_date",
                   "created_at")  # fmt: skip
    values = zip(
        _pick(v, "loan_ref", loans),
        [borrower_ids[ref] for ref in loan_borrowers],
        [plan.product_ids[i] for i in loans],
        _pick(v, "currency", loans),
        _pick(v, "principal", loans),
        _adapted(_pick(v, "rate", loans), lambda r: ops.adapt_decimalfield_value(r, 12, 8)),
        _adapted(_pick(v, "rate_basis", loans), _value),
        _pick(v, "term", loans),
        _adapted(_pick(v, "method", loans), _value),
        _adapted([plan.day_counts[i] for i in loans], _value),
        _adapted(_pick(v, "start_date", loans), ops.adapt_datefield_value),
        repeat(now),
        strict=False,  # the repeat is endless
    )
    ids = _reserve_ids(models.Loan, len(loans))
    _insert_rows(
        models.Loan,
        ("id", *loan_fields),
        ((loan_id, *row) for loan_id, row in zip(ids.tolist(), values, strict=False)),
    )
    # a schedule's insert bumps no revision (migration 0009): its loan is new
    _insert_schedules(plan, ids)
    return len(filled)


def _insert_schedules(plan: LoanPlan, ids: np.ndarray) -> None:
    """Each new loan's stored schedule, the ``i``-th of the plan's loans at ``ids[i]``."""
    _insert_rows(
        models.Schedule, ("loan", "text"), zip(ids.tolist(), _schedule_texts(plan), strict=True)
    )


def _schedule_texts(plan: LoanPlan) -> list[str]:
    """Each new loan's stored schedule (:mod:`arrears.ledger.schedules`), in the order of
    :attr:`LoanPlan.loans`, from the plan's built instalments in one vectorised pass."""
    texts = [""] * len(plan.loans)
    if plan.instalments is not None and plan.instalments.height:
        encoded = schedules.encode_frame(plan.instalments, "loan")
        for at, text in zip(encoded["loan"].to_list(), encoded["schedule"].to_list(), strict=True):
            texts[at] = text
    return texts


def _pick(fields: dict[str, list[Any]], key: str, offsets: list[int]) -> list[Any]:
    """The values of one of a plan's fields at the given row offsets."""
    column = fields[key]
    return [column[i] for i in offsets]


def _value(member: Any) -> Any:
    return member.value


def _adapted(values: list[Any], adapt: Callable[[Any], Any]) -> list[Any]:
    """``adapt`` of each value, called once per distinct value (a file's rates, dates and
    methods repeat from row to row)."""
    done = {value: adapt(value) for value in set(values)}
    return [done[value] for value in values]


def _reserve_ids(model: Any, count: int) -> np.ndarray:
    """``count`` ids for new rows of ``model``: the rows can then be written with their ids,
    and rows pointing at them without a lookup (or before them).

    On PostgreSQL they are drawn from the primary key's sequence. On SQLite they are the ids
    ``AUTOINCREMENT`` would give the next rows — one past the larger of the table's counter in
    ``sqlite_sequence`` and its highest id, on — so the rows get the very ids they got when
    they were looked up after the insert. Inside the import's transaction no other
    connection can write meanwhile (SQLite has one writer; a stale read cannot upgrade to a
    write), and an id taken anyway would fail the insert as a duplicate key: a file error,
    nothing applied."""
    if not count:
        return np.zeros(0, dtype=np.int64)
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [table]
            )
            (counter,) = cursor.fetchone()
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
            (highest,) = cursor.fetchone()
            first = max(counter, highest) + 1
            return np.arange(first, first + count, dtype=np.int64)
        # The sequence is named once (pg_get_serial_sequence evaluated for each id was three
        # quarters of the draw), and one row comes back: the range when the ids drawn are
        # contiguous (nobody else drew from the sequence meanwhile, the usual case), every id
        # only when they are not (a million ids sent as rows took seconds of the server's
        # time, and the client's to read them).
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute(
            "SELECT min(n), max(n), CASE WHEN max(n) - min(n) + 1 <> count(*) "
            "THEN array_agg(n ORDER BY n) END "
            "FROM (SELECT nextval(%s::regclass) AS n FROM generate_series(1, %s)) AS drawn",
            [sequence, count],
        )
        low, high, scattered = cursor.fetchone()
        if scattered is not None:
            return np.array(scattered, dtype=np.int64)
        return np.arange(low, high + 1, dtype=np.int64)


#: SQLite's row trigger that bumps ``Loan.revision`` for each payment inserted (migration
#: ``0004_loan_revision``).
PAYMENT_TRIGGER = "ledger_payment_rev_ins"


@contextmanager
def _revision_trigger_suspended(suspend: bool, name: str) -> Iterator[None]:
    """On SQLite, inside the import's transaction: the insert trigger ``name`` dropped for
    the block and created again, from its own stored SQL, at its end.

    The trigger would raise a loan's revision once per payment (an ``UPDATE`` of the loan per
    row, most of the payments' insert time); the payments' loans are bumped once each by
    :func:`write_payments` instead, as PostgreSQL's statement trigger does. The drop is part
    of the transaction — no other connection ever sees the table without its trigger, and a
    rollback restores it."""
    definition = None
    if suspend:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [name]
            )
            found = cursor.fetchone()
            if found is not None:
                definition = found[0]
                cursor.execute(f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        if definition is not None:
            with connection.cursor() as cursor:
                cursor.execute(definition)


def _insert_rows(model: Any, fields: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert rows that need no model logic, fast: ``COPY`` on PostgreSQL, statements of
    many rows each elsewhere (:func:`_insert_values`).

    Building and compiling a model instance for each row made ``bulk_create`` most of an
    import's time. Values are adapted by the caller."""
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
        while batch := list(islice(iterator, INSERT_BATCH)):
            _insert_values(cursor, table, columns, len(fields), list(chain.from_iterable(batch)))


def rows_per_statement(width: int) -> int:
    """Rows of ``width`` values a multi-row SQLite ``INSERT`` holds: as many as its
    bound-parameter limit allows (999, Django's figure for SQLite)."""
    return max(1, (connection.features.max_query_params or 999) // width)


def _insert_values(cursor: Any, table: str, columns: str, width: int, flat: list[Any]) -> None:
    """SQLite: the rows of ``flat`` (``width`` values each, row after row) inserted by
    statements of many rows each (``VALUES (…), (…), …``), as many as the bound-parameter
    limit allows.

    An ``executemany`` of one-row statements pays SQLite's per-statement work once a row (the
    statement's journal, the ``AUTOINCREMENT`` counter read and written back, the bindings'
    reset): for 1.2 million instalment rows (before migration 0009) that was two thirds of
    their insert time. The rows,
    their order and their ids are the same (a multi-row ``VALUES`` inserts in its order)."""
    per = rows_per_statement(width)
    row = f"({', '.join(['%s'] * width)})"
    step = per * width
    whole = len(flat) // step * step
    if whole:
        sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * per)}"
        cursor.executemany(sql, (flat[at : at + step] for at in range(0, whole, step)))
    if whole < len(flat):
        rest = (len(flat) - whole) // width
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * rest)}", flat[whole:]
        )


def _record(kind: str, table: Table, applied: int, skipped: int) -> ImportResult:
    batch = models.ImportBatch.objects.create(
        kind=kind,
        file_name=table.file_name,
        sha256=table.sha256,
        row_count=table.row_count,
        applied_count=applied,
        skipped_count=skipped,
    )
    return ImportResult(kind, table.file_name, table.row_count, applied, skipped, batch.pk)


def apply_payments(plan: PaymentPlan) -> ImportResult:
    """Write a plan without errors: new payments, then reversals (of stored or new payments)."""
    if plan.errors:
        raise ImportRejected(sorted(plan.errors, key=lambda e: e.row or 0))
    write_payments(plan)
    write_reversals(plan.table, plan.reversals)
    applied = len(plan.payments) + len(plan.reversals)
    return _record(models.ImportBatch.Kind.PAYMENTS, plan.table, applied, plan.skipped)


def write_payments(plan: PaymentPlan) -> None:
    """Insert a plan's (a file's or a chunk's) new payments; its reversals are written by
    :func:`write_reversals` once every payment of the file is in (a reversal may come
    before the payment it reverses, in another chunk).

    On SQLite, in the import's transaction, the payments' row trigger (an ``UPDATE`` of the
    loan per payment: most of the insert's time) is suspended and each paid loan's revision
    bumped once, by one ``UPDATE`` per 500 loans — what PostgreSQL's statement trigger does."""
    source = plan.table.file_name[:200]  # the columns' length, on both databases
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    days: dict[object, object] = {}  # a file's value dates repeat: adapted once
    for row in plan.payments:
        if row.value_date not in days:
            days[row.value_date] = ops.adapt_datefield_value(row.value_date)
    values = [
        (row.ref, row.loan_id, days[row.value_date], row.amount_minor, row.currency,
         source, None, None, "", now)
        for row in plan.payments
    ]  # fmt: skip
    fields = ("ref", "loan", "value_date", "amount_minor", "currency", "source", "reversed_on",
              "reversal_ref", "reversal_reason", "created_at")  # fmt: skip
    suspend = connection.vendor == "sqlite" and connection.in_atomic_block and bool(values)
    with _revision_trigger_suspended(suspend, PAYMENT_TRIGGER):
        _insert_rows(models.Payment, fields, values)
    if suspend:
        table = connection.ops.quote_name(models.Loan._meta.db_table)
        with connection.cursor() as cursor:
            for chunk in lookups.chunks(row.loan_id for row in plan.payments):
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"UPDATE {table} SET revision = revision + 1 WHERE id IN ({marks})", chunk
                )


def write_reversals(table: Table, reversals: list[ReversalRow]) -> None:
    """Mark the payments ``reversals`` name (stored before, or written by this import)."""
    reason = f"imported from {table.file_name}"[:200]
    reversal_of = {r.reverses: r for r in reversals}
    targets = lookups.fetch(models.Payment.objects.all(), "ref", reversal_of)
    now = timezone.now()
    for payment in targets:
        reversal = reversal_of[payment.ref]
        payment.reversed_on = reversal.reversed_on
        payment.reversal_ref = reversal.ref
        payment.reversal_reason = reason
        payment.reversed_at = now
    models.Payment.objects.bulk_update(
        targets,
        ["reversed_on", "reversal_ref", "reversal_reason", "reversed_at"],
        batch_size=BULK_BATCH,
    )


def record(kind: str, table: Table, applied: int, skipped: int) -> ImportResult:
    """The import batch of a file written chunk by chunk."""
    return _record(kind, table, applied, skipped)
