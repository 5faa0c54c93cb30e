"""Portfolio snapshots: the daily run's input as a directory of Parquet files.

A snapshot lets a lender whose loans live in another core banking system feed the daily run
without our database. The package is split along its seams, each module with one job:

* :mod:`.format` — the format itself (files, columns, types, manifest; its docstring is the
  specification);
* :mod:`.write` — :class:`SnapshotWriter`, the data files in batches, then the manifest;
* :mod:`.read` — :func:`read_snapshot` (a whole snapshot) and :func:`iter_chunks` (a range of
  loans at a time, in bounded memory), both through
* :mod:`.validate` — the row checks both readers share, so they refuse with one message;
* :mod:`.terms` — rows as the kernel's values (:func:`kernel_terms`, the one builder every
  runner's kernel replay uses; :func:`loan_terms_from_snapshot`).

Writing one from our database (``arrears snapshot export``) is the ledger's job
(:mod:`arrears.ledger.snapshot_export`): the engine imports no Django and no app.
"""

from arrears.engine.snapshot.format import (
    COLUMNS,
    CONCESSION_TABLES,
    DECIMAL_PRODUCT,
    DECIMAL_RATE,
    DICTIONARY_COLUMNS,
    FORMAT,
    INSTALMENTS,
    LOANS,
    MANIFEST,
    MONEY,
    PAYMENTS,
    PLAN_INSTALMENTS,
    PLANS,
    PRODUCTS,
    SCHEMAS,
    TABLES,
    TABLES_OF_VERSION,
    VERSION,
    WAIVERS,
    Column,
    Snapshot,
    SnapshotError,
    empty_frame,
    file_name,
    sha256_of,
)
from arrears.engine.snapshot.read import iter_chunks, read_snapshot
from arrears.engine.snapshot.terms import (
    KernelEntry,
    kernel_terms,
    loan_terms_from_snapshot,
    product_terms,
)
from arrears.engine.snapshot.write import SnapshotWriter

__all__ = [
    "COLUMNS",
    "CONCESSION_TABLES",
    "DECIMAL_PRODUCT",
    "DECIMAL_RATE",
    "DICTIONARY_COLUMNS",
    "FORMAT",
    "INSTALMENTS",
    "LOANS",
    "MANIFEST",
    "MONEY",
    "PAYMENTS",
    "PLANS",
    "PLAN_INSTALMENTS",
    "PRODUCTS",
    "SCHEMAS",
    "TABLES",
    "TABLES_OF_VERSION",
    "VERSION",
    "WAIVERS",
    "Column",
    "KernelEntry",
    "Snapshot",
    "SnapshotError",
    "SnapshotWriter",
    "empty_frame",
    "file_name",
    "iter_chunks",
    "kernel_terms",
    "loan_terms_from_snapshot",
    "product_terms",
    "read_snapshot",
    "sha256_of",
]
