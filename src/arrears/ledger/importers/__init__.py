"""Import of loans and payments from CSV or Parquet: every row validated, then all or nothing.

The shape is beancount's: reading and validation return values plus a list of errors
(:class:`RowError`, numbered as a spreadsheet user sees rows: the header is row 1), and only
a plan without a single error is applied, in one transaction. A row whose reference is already
in the database with identical data is *skipped* (so importing a file twice changes nothing);
the same reference with different data is an error. References are checked with one query per
chunk of rows, never one per row, and rows are written in bulk.

The package follows the path of a file, one module per step, so each can change on its own:

* :mod:`~.reading` — a CSV or Parquet file → a :class:`Table` of text rows with row numbers
  (:mod:`~.formats` names the columns of each kind of file);
* :mod:`~.rows` — the first pass of validation, over the whole batch: every row's fields, text →
  typed values (:mod:`~.parsers`), each bad field a :class:`RowError`; :mod:`~.columns` does
  the same for a loans chunk column by column, with the same values and errors;
* :mod:`~.loan_validation`, :mod:`~.payment_validation` — the rows against each other and the
  database (:mod:`~.lookups`, one query per chunk), giving a plan (:mod:`~.records`) that holds
  every error and what to write, written only when there is no error;
* :mod:`~.schedules` — the schedules of a whole chunk of loans at once, in columns for the
  common methods (held equal to the kernel's), by the kernel for the rest;
* :mod:`~.writing` — a plan without errors → rows, in bulk;
* :mod:`~.pipeline` — :func:`import_file`: read, then validate and write a chunk of rows at a
  time (``CHUNK_ROWS``), all in one transaction: every chunk is validated, none written after
  the first error, and any error refuses the whole file.

Every public name is re-exported here; callers import from ``arrears.ledger.importers``.
"""

from arrears.ledger.importers.errors import ImportRejected, RowError
from arrears.ledger.importers.formats import (
    LOAN_COLUMNS,
    LOAN_OPTIONAL,
    PAYMENT_COLUMNS,
    PAYMENT_OPTIONAL,
)
from arrears.ledger.importers.loan_validation import validate_loans
from arrears.ledger.importers.lookups import LOOKUP_CHUNK
from arrears.ledger.importers.parsers import MAX_REF_LENGTH
from arrears.ledger.importers.payment_validation import validate_payments
from arrears.ledger.importers.pipeline import IMPORT_KINDS, import_file
from arrears.ledger.importers.reading import FIRST_DATA_ROW, Table, read_table
from arrears.ledger.importers.records import (
    BorrowerRow,
    ImportResult,
    LoanPlan,
    LoanRow,
    PaymentPlan,
    PaymentRow,
    ReversalRow,
)
from arrears.ledger.importers.writing import BULK_BATCH, INSERT_BATCH, apply_loans, apply_payments

__all__ = [
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
]
