"""``arrears snapshot export``: the ledger written as a portfolio snapshot.

The snapshot format, its writer and its readers belong to the engine
(:mod:`arrears.engine.snapshot`), which runs on a lender's machine without Django; reading the
rows out of our database is the ledger's job (:mod:`arrears.ledger.frames`, the same reader the
daily run on the database uses), so it lives here and the engine imports no app.
"""

from __future__ import annotations

from pathlib import Path

from django.db.models import QuerySet

from arrears.engine.snapshot import SnapshotWriter
from arrears.ledger import models
from arrears.ledger.frames import iter_frames


def export_snapshot(
    directory: Path,
    loans: QuerySet[models.Loan] | None = None,
    *,
    batch_size: int = 100_000,
    exclude_adjusted: bool = False,
) -> dict[str, int]:
    """Write ``loans`` (default: every loan) with their products, instalments, payments,
    waivers and repayment plans as a snapshot (format version 2) in ``directory``; returns the
    row count of each file.

    The ledger is read by :func:`arrears.ledger.frames.iter_frames` ``batch_size`` loans at a
    time (bulk reads, all in one read-only transaction — ``REPEATABLE READ`` on PostgreSQL — so
    the files agree with each other even while payments keep arriving), and each chunk's rows
    are written as one row group per file, so memory does not grow with the portfolio.

    Loans with waivers or plans in force are exported with them, so nothing is refused.
    ``exclude_adjusted`` is accepted and ignored, for callers of the version 1 export (which
    could only leave such loans out); it will be removed in the next release.
    """
    del exclude_adjusted  # a no-op since format version 2 carries concessions
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    with SnapshotWriter(directory) as writer:
        products_written = False
        for chunk in iter_frames(loans, batch_size):
            if not products_written:
                writer.write("products", chunk.products.to_arrow())
                products_written = True
            for name, frame in chunk.tables.items():
                if name != "products":
                    writer.write(name, frame.to_arrow())
    return dict(writer.counts)
