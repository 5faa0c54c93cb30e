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
from pathlib import Path
from typing import Any

from django.db import DataError, IntegrityError, OperationalError, transaction

from arrears.ledger.importers import rows
from arrears.ledger.importers.bounds import bound_errors
from arrears.ledger.importers.errors import ImportRejected, RowError, file_error, first_line
from arrears.ledger.importers.formats import (
    LOAN_COLUMNS,
    LOAN_OPTIONAL,
    PAYMENT_COLUMNS,
    PAYMENT_OPTIONAL,
)
from arrears.ledger.importers.loan_validation import validate_loans
from arrears.ledger.importers.payment_validation import validate_payments
from arrears.ledger.importers.reading import Table, read_table
from arrears.ledger.importers.records import ImportResult
from arrears.ledger.importers.writing import apply_loans, apply_payments

_KINDS: dict[
    str, tuple[Sequence[str], Sequence[str], Callable[[Table], Any], Callable[[Any], ImportResult]]
] = {
    "loans": (LOAN_COLUMNS, LOAN_OPTIONAL, validate_loans, apply_loans),
    "payments": (PAYMENT_COLUMNS, PAYMENT_OPTIONAL, validate_payments, apply_payments),
}
IMPORT_KINDS: tuple[str, ...] = tuple(_KINDS)


def _field_errors(table: Table, kind: str, out_of_bounds: list[RowError]) -> list[RowError]:
    """A file the bounds pass refused: every field's own error (still all at once, as a lender
    fixes a file in one go), without the lookups and schedules that only matter for a file
    that can be applied. The bounds pass's errors are kept for any field the rows missed."""
    errors: list[RowError] = []
    (rows.loan_rows if kind == "loans" else rows.payment_rows)(table, errors)
    seen = {(e.row, e.field) for e in errors}
    errors += [e for e in out_of_bounds if (e.row, e.field) not in seen]
    return sorted(errors, key=lambda e: e.row or 0)


def import_file(kind: str, path: Path | str) -> ImportResult:
    """Import a loans or payments file: all rows or none (:class:`ImportRejected` lists why)."""
    if kind not in _KINDS:
        raise ImportRejected(
            [RowError(None, "kind", f"{kind!r} is not one of {', '.join(IMPORT_KINDS)}")]
        )
    required, optional, validate, apply = _KINDS[kind]
    table = read_table(path, required=required, optional=optional)
    out_of_bounds = bound_errors(table, kind)
    if out_of_bounds:
        raise ImportRejected(_field_errors(table, kind, out_of_bounds))
    try:
        with transaction.atomic():
            plan = validate(table)
            return apply(plan)
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
