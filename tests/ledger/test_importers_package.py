"""The importers package keeps the names callers used when it was one module, and numbers rows
as a spreadsheet does wherever the batch is read."""

from __future__ import annotations

import arrears.ledger.importers as importers
from arrears.ledger.importers import FIRST_DATA_ROW, Table

#: The public names of ``arrears.ledger.importers`` before it was split into a package.
PUBLIC = {
    "BULK_BATCH",
    "FIRST_DATA_ROW",
    "IMPORT_KINDS",
    "INSERT_BATCH",
    "LOAN_COLUMNS",
    "LOAN_OPTIONAL",
    "LOOKUP_CHUNK",
    "MAX_REF_LENGTH",
    "PAYMENT_COLUMNS",
    "PAYMENT_OPTIONAL",
    "BorrowerRow",
    "ImportRejected",
    "ImportResult",
    "LoanPlan",
    "LoanRow",
    "PaymentPlan",
    "PaymentRow",
    "ReversalRow",
    "RowError",
    "Table",
    "apply_loans",
    "apply_payments",
    "import_file",
    "read_table",
    "validate_loans",
    "validate_payments",
}


def test_every_public_name_is_still_importable_from_the_package() -> None:
    assert set(importers.__all__) == PUBLIC
    assert all(hasattr(importers, name) for name in PUBLIC)


def test_rows_are_numbered_from_the_first_row_under_the_header() -> None:
    table = Table("loans.csv", "0" * 64, ({"loan_ref": "A"}, {"loan_ref": "B"}))
    assert FIRST_DATA_ROW == 2
    assert [(row, values["loan_ref"]) for row, values in table.numbered()] == [(2, "A"), (3, "B")]
