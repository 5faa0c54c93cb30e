"""The entry point: read a file, validate every row, write it all in one transaction, or refuse.

Reading touches no table, so it runs before the transaction; validation and writing share one,
so a refused plan or a failing write leaves nothing behind. Another import committing the same
references meanwhile shows up as an ``IntegrityError`` at the write, reported as a file error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction

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


def import_file(kind: str, path: Path | str) -> ImportResult:
    """Import a loans or payments file: all rows or none (:class:`ImportRejected` lists why)."""
    if kind not in _KINDS:
        raise ImportRejected(
            [RowError(None, "kind", f"{kind!r} is not one of {', '.join(IMPORT_KINDS)}")]
        )
    required, optional, validate, apply = _KINDS[kind]
    table = read_table(path, required=required, optional=optional)
    try:
        with transaction.atomic():
            plan = validate(table)
            return apply(plan)
    except IntegrityError as error:
        raise file_error(
            "the database changed while the file was being imported (another import at the "
            f"same time?); nothing was imported, run it again ({first_line(error)})"
        ) from None
