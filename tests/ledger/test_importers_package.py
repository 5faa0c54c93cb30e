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


def test_a_repeated_value_is_parsed_once_per_chunk_and_every_row_keeps_its_error() -> None:
    from arrears.kernel.errors import ArrearsError
    from arrears.ledger.importers.errors import RowError
    from arrears.ledger.importers.parsers import Fields, Memo

    calls: list[str] = []

    def parse(text: str) -> int:
        calls.append(text)
        if text == "bad":
            raise ArrearsError("term: is bad")
        return int(text)

    errors: list[RowError] = []
    memo = Memo()
    got = [
        Fields(row, {"term": text}, errors, memo).parse("term", parse, repeats=True)
        for row, text in enumerate(["12", "bad", "12", "bad", "6"], start=2)
    ]
    assert got == [12, None, 12, None, 6]
    assert calls == ["12", "bad", "6"]
    assert [str(e) for e in errors] == ["row 3, field term: is bad", "row 5, field term: is bad"]
