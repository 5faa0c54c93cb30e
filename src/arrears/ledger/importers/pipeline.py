"""The entry point: read a file, validate every row, write it all in one transaction, or refuse.

Reading touches no table, so it runs before the transaction; validation and writing share one,
so a refused plan or a failing write leaves nothing behind. Another import committing the same
references meanwhile shows up as an ``IntegrityError`` at the write, reported as a file error.

Before any of that, :mod:`~.bounds` checks the whole file against the ledger's limits in one
vectorised pass and refuses it there, so a bad value is reported before the database or the
kernel sees it (and identically on SQLite and PostgreSQL). A full or read-only disk, or a lost
database, is one line saying nothing was imported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from django.db import DataError, IntegrityError, OperationalError, transaction

from arrears.ledger import models
from arrears.ledger.importers import rows, writing
from arrears.ledger.importers.bounds import bound_errors
from arrears.ledger.importers.errors import ImportRejected, RowError, file_error, first_line
from arrears.ledger.importers.formats import (
    LOAN_COLUMNS,
    LOAN_OPTIONAL,
    PAYMENT_COLUMNS,
    PAYMENT_OPTIONAL,
)
from arrears.ledger.importers.loan_validation import LoanFile, validate_loans
from arrears.ledger.importers.payment_validation import PaymentFile, validate_payments
from arrears.ledger.importers.reading import Table, read_table
from arrears.ledger.importers.records import ImportResult, ReversalRow

#: Rows validated and written at a time: the Python objects of an import (rows, plans,
#: schedules) grow with this, not with the file.
CHUNK_ROWS = 50_000


def _import_loans(table: Table) -> ImportResult:
    """Validate and write a loans file a chunk at a time, in the caller's transaction: every
    chunk is validated (so every error is reported), none is written after the first error,
    and any error refuses the file (the transaction rolls back what was written)."""
    file = LoanFile.of(table)
    errors: list[RowError] = []
    applied = skipped = contacts = 0
    for chunk in table.chunks(CHUNK_ROWS):
        plan = validate_loans(chunk, file)
        skipped += plan.skipped
        errors += plan.errors
        # a repeated loan reference is an error on its later row: write nothing meanwhile
        if errors or file.repeated_loans:
            continue
        contacts += writing.write_loans(plan)
        file.written(plan.borrower_refs())
        applied += len(plan.loans)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row or 0))
    result = writing.record(models.ImportBatch.Kind.LOANS, table, applied, skipped)
    return replace(result, contacts_added=contacts)


def _import_payments(table: Table) -> ImportResult:
    """As :func:`_import_loans`; the reversals are written last, once every payment is in."""
    file = PaymentFile.of(table)
    errors: list[RowError] = []
    reversals: list[ReversalRow] = []
    applied = skipped = 0
    for chunk in table.chunks(CHUNK_ROWS):
        plan = validate_payments(chunk, file)
        skipped += plan.skipped
        errors += plan.errors
        if errors or file.repeated_refs or file.repeated_targets:
            continue
        writing.write_payments(plan)
        reversals += plan.reversals
        applied += len(plan.payments) + len(plan.reversals)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row or 0))
    writing.write_reversals(table, reversals)
    return writing.record(models.ImportBatch.Kind.PAYMENTS, table, applied, skipped)


_KINDS: dict[str, tuple[Sequence[str], Sequence[str], Callable[[Table], ImportResult]]] = {
    "loans": (LOAN_COLUMNS, LOAN_OPTIONAL, _import_loans),
    "payments": (PAYMENT_COLUMNS, PAYMENT_OPTIONAL, _import_payments),
}
IMPORT_KINDS: tuple[str, ...] = tuple(_KINDS)


#: Up to this many rows, a file refused by the bounds pass still has every field of every row
#: parsed, so all its errors come at once; a longer one has only the rows with a value out of
#: bounds parsed (a 100 000-row file is refused in a second, not after a full field pass).
FULL_FIELD_PASS_ROWS = 10_000


def _field_errors(table: Table, kind: str, out_of_bounds: list[RowError]) -> list[RowError]:
    """A file the bounds pass refused: each field's own error (as a lender fixes a file in one
    go), without the lookups and schedules that only matter for a file that can be applied.
    The bounds pass's errors are kept for any field the rows missed."""
    errors: list[RowError] = []
    parse = rows.loan_rows if kind == "loans" else rows.payment_rows
    if table.row_count <= FULL_FIELD_PASS_ROWS:
        parse(table, errors)
        note: list[RowError] = []
    else:
        flagged = sorted({e.row for e in out_of_bounds if e.row is not None})
        parse(table.subset(flagged), errors)
        renumber = dict(enumerate(flagged, start=table.first_row))
        errors = [RowError(renumber.get(e.row or 0, e.row), e.field, e.message) for e in errors]
        note = [
            RowError(
                None,
                "file",
                f"only the {len(flagged)} row(s) with a value outside the ledger's limits were "
                f"checked in full (the file has {table.row_count} rows); fix them and import "
                "again to check the rest",
            )
        ]
    seen = {(e.row, e.field) for e in errors}
    errors += [e for e in out_of_bounds if (e.row, e.field) not in seen]
    return sorted(errors, key=lambda e: e.row or 0) + note


def import_file(kind: str, path: Path | str) -> ImportResult:
    """Import a loans or payments file: all rows or none (:class:`ImportRejected` lists why)."""
    if kind not in _KINDS:
        raise ImportRejected(
            [RowError(None, "kind", f"{kind!r} is not one of {', '.join(IMPORT_KINDS)}")]
        )
    required, optional, run = _KINDS[kind]
    table = read_table(path, required=required, optional=optional)
    out_of_bounds = bound_errors(table, kind)
    if out_of_bounds:
        raise ImportRejected(_field_errors(table, kind, out_of_bounds))
    try:
        with transaction.atomic():
            return run(table)
    except IntegrityError as error:
        raise file_error(
            "the database changed while the file was being imported (another import at the "
            f"same time?); nothing was imported, run it again ({first_line(error)})"
        ) from None
    except (OperationalError, DataError, OSError) as error:
        # a full or read-only disk, a lost connection, a value the database still refuses:
        # the transaction rolled back, so one clear line says so instead of a traceback
        raise file_error(
            f"the database could not store the file ({first_line(error)}); nothing was imported"
        ) from None
